"""The ceiling of the stack: an aiohttp handler that reads the form and answers 200.

On the same event loop as `msgwatch serve` (uvloop where installed), so c/a compares
msgwatch's own work and nothing else.
"""

import asyncio
import sys

from aiohttp import web

try:
    import uvloop
except ImportError:
    uvloop = None


async def handle(request: web.Request) -> web.Response:
    await request.post()
    return web.Response()


app = web.Application()
app.router.add_post("/message-status", handle)
loop = uvloop.new_event_loop() if uvloop else asyncio.new_event_loop()
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None, loop=loop)
