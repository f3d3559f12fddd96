"""The emulator's HTTP face: Twilio's Messages API (2010-04-01) on aiohttp.

JSON only: a `.xml` URL answers 406 Not Acceptable (documented in the README). Errors are
Twilio's JSON `{code, message, more_info, status}`; unknown paths are 404 / 20404.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Middleware

from .accounts import authenticate
from .book import first_values, messages_path, page_bounds
from .callbacks import CallbackSender
from .emulator import Emulator
from .faults import Faults, Operation, faults_middleware
from .model import ApiError

EMULATOR_KEY: web.AppKey[Emulator] = web.AppKey("emulator", Emulator)
SENDER_KEY: web.AppKey[CallbackSender] = web.AppKey("sender", CallbackSender)
_PREFIX = "/2010-04-01/Accounts/{account}"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _json(payload: Any, status: int = 200) -> web.Response:
    return web.Response(text=json.dumps(payload), status=status, content_type="application/json")


def _error(exc: ApiError) -> web.Response:
    return _json(exc.body(), status=exc.status)


@web.middleware
async def twilio_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every failure answers in Twilio's error shape, never aiohttp's HTML pages."""
    try:
        return await handler(request)
    except ApiError as exc:
        return _error(exc)
    except web.HTTPNotFound:
        return _error(ApiError(404, 20404, f"The requested resource {request.path} was not found"))
    except web.HTTPMethodNotAllowed as exc:
        response = _error(ApiError(405, 20004, f"Method {request.method} not allowed"))
        response.headers["Allow"] = ", ".join(sorted(exc.allowed_methods))  # RFC 9110
        return response


def _authorized(request: web.Request) -> tuple[Emulator, str, bool]:
    emulator = request.app[EMULATOR_KEY]
    account = request.match_info["account"]
    is_test = authenticate(emulator.credentials, request.headers.get("Authorization"), account)
    return emulator, account, is_test


async def _form(request: web.Request) -> list[tuple[str, str]]:
    try:
        data = await request.post()
    except ValueError as exc:  # e.g. multipart without a boundary: the client's mistake
        raise ApiError(
            400, 20001, f"The request body could not be read as a form: {exc}."
        ) from None
    return [(k, v) for k, v in data.items() if isinstance(v, str)]


async def create_message(request: web.Request) -> web.Response:
    emulator, account, is_test = _authorized(request)
    message = emulator.create(account, await _form(request), test_credentials=is_test)
    return _json(message.to_resource(), status=201)


async def list_messages(request: web.Request) -> web.Response:
    emulator, account, _ = _authorized(request)
    envelope = emulator.book.page(account, list(request.query.items()), messages_path(account))
    return _json(envelope)


async def fetch_message(request: web.Request) -> web.Response:
    emulator, account, _ = _authorized(request)
    return _json(emulator.fetch(account, request.match_info["sid"]).to_resource())


async def update_message(request: web.Request) -> web.Response:
    emulator, account, _ = _authorized(request)
    message = emulator.update(account, request.match_info["sid"], await _form(request))
    return _json(message.to_resource())


async def delete_message(request: web.Request) -> web.Response:
    emulator, account, _ = _authorized(request)
    emulator.delete(account, request.match_info["sid"])
    return web.Response(status=204)


async def list_media(request: web.Request) -> web.Response:
    emulator, account, _ = _authorized(request)
    message = emulator.fetch(account, request.match_info["sid"])
    path = f"{message.uri[: -len('.json')]}/Media.json"
    size, page = page_bounds(first_values(list(request.query.items())))
    media = message.media_resources()
    rows = media[page * size : (page + 1) * size]

    def uri(n: int) -> str:
        return f"{path}?PageSize={size}&Page={n}"

    more = (page + 1) * size < len(media)
    return _json(
        {
            "end": page * size + max(len(rows) - 1, 0),
            "first_page_uri": uri(0),
            "media_list": rows,
            "next_page_uri": uri(page + 1) if more else None,
            "page": page,
            "page_size": size,
            "previous_page_uri": uri(page - 1) if page > 0 else None,
            "start": page * size,
            "uri": uri(page),
        }
    )


async def deliveries(request: web.Request) -> web.Response:
    """Every webhook attempt the emulator made (newest last): `?after=ID` for the rest."""
    sender = request.app.get(SENDER_KEY)
    if sender is None:
        return _json({"deliveries": []})
    try:
        after = int(request.query.get("after", "0"))
    except ValueError:
        raise ApiError(400, 20001, "after must be a delivery id (a whole number).") from None
    return _json({"deliveries": [d.to_json() for d in sender.log if d.id > after]})


async def not_acceptable(request: web.Request) -> web.Response:
    return _error(
        ApiError(406, 20001, "msgwatch's local Twilio speaks JSON only: use the .json URL.")
    )


def add_routes(app: web.Application) -> None:
    app.router.add_post(f"{_PREFIX}/Messages.json", create_message)
    app.router.add_get(f"{_PREFIX}/Messages.json", list_messages)
    app.router.add_get(f"{_PREFIX}/Messages/{{sid}}.json", fetch_message)
    app.router.add_post(f"{_PREFIX}/Messages/{{sid}}.json", update_message)
    app.router.add_delete(f"{_PREFIX}/Messages/{{sid}}.json", delete_message)
    app.router.add_get(f"{_PREFIX}/Messages/{{sid}}/Media.json", list_media)
    app.router.add_route("*", "/2010-04-01/{tail:.*}.xml", not_acceptable)
    app.router.add_get("/_emulator/deliveries", deliveries)


_OPERATIONS: dict[object, Operation] = {
    create_message: Operation.CREATE,
    list_messages: Operation.LIST,
    fetch_message: Operation.FETCH,
    update_message: Operation.UPDATE,
    delete_message: Operation.DELETE,
}


def _operation(request: web.Request) -> Operation | None:
    """Which Messages API operation a request is, from the route it matched (None for the
    media list, the emulator's own endpoints and unknown paths)."""
    return _OPERATIONS.get(request.match_info.handler)


def build_app(
    emulator: Emulator, sender: CallbackSender | None = None, faults: Faults | None = None
) -> web.Application:
    middlewares: list[Middleware] = [twilio_errors]
    if faults is not None:  # outermost: it sees each committed request's real answer
        middlewares.insert(0, faults_middleware(faults, _operation))
    app = web.Application(middlewares=middlewares)
    app[EMULATOR_KEY] = emulator
    if sender is not None:
        app[SENDER_KEY] = sender
    add_routes(app)
    return app
