"""The ceiling of the stack: an aiohttp handler that reads the form and answers 200."""

import sys

from aiohttp import web


async def handle(request: web.Request) -> web.Response:
    await request.post()
    return web.Response()


app = web.Application()
app.router.add_post("/message-status", handle)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)
