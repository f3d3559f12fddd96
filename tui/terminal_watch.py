"""Ending the console when its terminal goes away and no SIGHUP says so.

A closed terminal (an SSH connection dropped, a window closed) normally sends the console
SIGHUP, and it ends. When that signal does not come (started under `nohup`, a multiplexer's
server killed; seen here with `tmux kill-server`), the console used to wedge: Textual's
input thread reads end-of-file in a loop (a whole core), its output thread dies on the
first failed write, and the event loop then blocks for good on the full output queue.
That process kept the database open and, in live mode, the callback port bound with
nobody answering, so Twilio's callbacks timed out and the next console could not take
the port.

A daemon thread waits in poll() for the terminal's hang-up (input does not wake it), then
asks the app to exit, and ends the process as SIGHUP would if that has not happened within
a grace period. Everything acknowledged is already committed; the writer process exits on
its own when this one is gone.
"""

from __future__ import annotations

import logging
import os
import select
import signal
import threading
import time
from collections.abc import Callable

log = logging.getLogger("msgwatch.terminal")

# A clean exit (screens closed, session stopped) takes well under a second; this only
# bounds how long a wedged one may keep the port.
GRACE_SECONDS = 5.0
# The exit status of a console whose terminal hung up, as a shell reports one ended by SIGHUP.
EXIT_HUNG_UP = 128 + signal.SIGHUP
_HANGUP = select.POLLHUP | select.POLLERR | select.POLLNVAL


def watch_for_hangup(
    fd: int,
    on_hangup: Callable[[], object],
    *,
    grace: float = GRACE_SECONDS,
    end_process: Callable[[], None] | None = None,
) -> threading.Thread | None:
    """Start watching terminal `fd`; None if it is not a terminal (nothing to watch).

    On hang-up, `on_hangup` runs on the watcher's thread (it must be thread-safe), and
    `end_process` (by default, exiting with SIGHUP's status) after `grace` seconds if the
    process is still here."""
    if not os.isatty(fd):
        return None
    poller = select.poll()
    poller.register(fd, select.POLLHUP)  # POLLHUP/POLLERR are reported whatever the mask

    def watch() -> None:
        while not any(mask & _HANGUP for _, mask in poller.poll()):
            pass
        log.warning("the terminal hung up; ending the console")
        try:
            on_hangup()
        except Exception:  # the loop may already be gone; the fallback below still ends it
            log.exception("asking the console to exit failed")
        time.sleep(grace)
        log.warning("the console did not exit within %.0f s of the hang-up; ending it", grace)
        (end_process or _exit_as_if_hung_up)()

    thread = threading.Thread(target=watch, name="terminal-watch", daemon=True)
    thread.start()
    return thread


def has_hung_up(fd: int) -> bool:
    """Whether terminal `fd` has hung up, now (no waiting)."""
    poller = select.poll()
    poller.register(fd, select.POLLHUP)
    return any(mask & _HANGUP for _, mask in poller.poll(0))


def _exit_as_if_hung_up() -> None:
    logging.shutdown()
    os._exit(EXIT_HUNG_UP)
