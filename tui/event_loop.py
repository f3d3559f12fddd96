"""Which asyncio event loop the long-running commands run on.

uvloop where it is installed (it is a dependency off Windows): its loop does the same work
for less CPU, and both `msgwatch serve` and the console spend much of their time in it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """For `asyncio.Runner(loop_factory=...)`: uvloop's, or None for asyncio's own.

    Measured here: bare aiohttp answers ~a fifth more requests on it (perf-anchors: 24.1k
    vs 20.2k req/s); the console under 1,700 callbacks/s used ~6% less CPU (3 alternating
    pairs of bench/console.py load trials: 64-67% against 69-72% of a core).
    """
    try:
        import uvloop
    except ImportError:  # Windows, or a build without it: asyncio's loop works the same
        return None
    return uvloop.new_event_loop
