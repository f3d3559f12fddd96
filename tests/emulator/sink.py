"""A webhook receiver for tests: records every request it gets, answers what it is told."""

from dataclasses import dataclass, field

from aiohttp import web
from multidict import MultiDict


@dataclass
class Received:
    url: str
    headers: dict[str, str]
    form: MultiDict[str]

    def get(self, name: str) -> str | None:
        return self.form.get(name)


@dataclass
class Sink:
    status: int = 200
    body: str = ""
    received: list[Received] = field(default_factory=list)
    runner: web.AppRunner | None = None
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def handle(self, request: web.Request) -> web.Response:
        form = await request.post()
        self.received.append(
            Received(
                url=str(request.url),
                headers=dict(request.headers),
                form=MultiDict((k, str(v)) for k, v in form.items()),
            )
        )
        return web.Response(status=self.status, text=self.body, content_type="text/xml")

    async def start(self) -> "Sink":
        app = web.Application()
        app.router.add_post("/{tail:.*}", self.handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self.runner.addresses[0][1])
        return self

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    def statuses(self, sid: str) -> list[str]:
        return [r.form["MessageStatus"] for r in self.received if r.get("MessageSid") == sid]
