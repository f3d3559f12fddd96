"""The console ends when its terminal hangs up, even when no SIGHUP comes.

Without the watch, a console whose terminal vanished without SIGHUP spun a core for good
and kept its port (found running 10 minutes after `tmux kill-server`)."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

from tui.terminal_watch import EXIT_HUNG_UP, has_hung_up, watch_for_hangup


def test_a_hang_up_asks_the_app_to_exit_then_ends_the_process() -> None:
    master, slave = pty.openpty()
    asked, ended = threading.Event(), threading.Event()
    try:
        assert watch_for_hangup(slave, asked.set, grace=0.05, end_process=ended.set)
        os.write(master, b"q")  # typing is not a hang-up
        assert not asked.wait(0.3)
    finally:
        os.close(master)
    assert asked.wait(10) and ended.wait(10)
    os.close(slave)


def test_has_hung_up_tells_a_live_terminal_from_a_gone_one() -> None:
    master, slave = pty.openpty()
    try:
        os.write(master, b"q")  # pending input is not a hang-up
        assert not has_hung_up(slave)
    finally:
        os.close(master)
    assert has_hung_up(slave)
    os.close(slave)


def test_a_failing_exit_request_still_ends_the_process() -> None:
    master, slave = pty.openpty()
    ended = threading.Event()

    def loop_already_closed() -> None:
        raise RuntimeError("Event loop is closed")

    watch_for_hangup(slave, loop_already_closed, grace=0.05, end_process=ended.set)
    os.close(master)
    assert ended.wait(10)
    os.close(slave)


def test_nothing_to_watch_when_not_a_terminal() -> None:
    read, write = os.pipe()
    try:
        assert watch_for_hangup(read, lambda: None) is None
    finally:
        os.close(read)
        os.close(write)


def test_the_console_exits_when_its_terminal_goes_away_without_sighup(tmp_path: Path) -> None:
    """The pty is not the child's controlling terminal, so closing it sends no SIGHUP: the
    situation of a console started under nohup, or of a killed multiplexer."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    env = {k: v for k, v in os.environ.items() if not k.startswith("TWILIO_")}
    env.update(
        HOME=str(tmp_path),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_DATA_HOME=str(tmp_path / "data"),
        XDG_STATE_HOME=str(tmp_path / "state"),
        TERM="xterm-256color",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui", "--demo", "--db", str(tmp_path / "demo.db")],
        stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True,
    )  # fmt: skip
    os.close(slave)
    try:
        screen = _read_until(master, b"DEMO", timeout=30)
        assert b"DEMO" in screen, screen[-2000:]
    finally:
        os.close(master)
    try:
        code = proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise AssertionError("the console kept running after its terminal went away") from None
    assert code == EXIT_HUNG_UP, code  # as if SIGHUP had ended it, however Textual ended


def _read_until(fd: int, marker: bytes, timeout: float) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while marker not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                seen += os.read(fd, 65536)
            except OSError:  # the child is gone and the pty with it
                break
    return seen
