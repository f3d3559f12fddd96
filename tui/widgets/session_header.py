"""The two lines at the top: where statuses come from, and what the list holds.

Line 1: mode, account (masked), the callback URL Twilio is given, how statuses arrive.
Line 2: receiver health (listening, last callback age, rejected count) and the counts by
status of the rows the filter selects.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from tui.domain.status import MessageStatus
from tui.services.console_session import Mode, SessionInfo, StatusSource

from .one_line import set_line
from .safe_text import sanitize
from .status_badge import STATUS_STYLES, status_label

# Counts are shown in this order; statuses not listed follow.
_ORDER = (
    MessageStatus.DELIVERED,
    MessageStatus.READ,
    MessageStatus.SENT,
    MessageStatus.QUEUED,
    MessageStatus.SCHEDULED,
    MessageStatus.UNDELIVERED,
    MessageStatus.FAILED,
    MessageStatus.RECEIVED,
    MessageStatus.CANCELED,
)
_SOURCE_TEXT = {
    StatusSource.CALLBACKS: "statuses by callback",
    StatusSource.POLLING: "statuses by polling (no public URL)",
    StatusSource.FOLLOWING: "following the database",
}
BOLD = Style(bold=True)
DIM = Style(dim=True)
WARN = Style(color="yellow", bold=True)
BAD = Style(color="red", bold=True)


def describe_age(seconds: float | None) -> str:
    if seconds is None:
        return "no callbacks yet"
    if seconds < 1:
        return "last callback just now"
    if seconds < 120:
        return f"last callback {seconds:.0f} s ago"
    if seconds < 7200:
        return f"last callback {seconds / 60:.0f} min ago"
    return f"last callback {seconds / 3600:.0f} h ago"


def session_line(info: SessionInfo, *, present: bool = False) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis", end="")
    mode = " DEMO " if info.mode is Mode.DEMO else " LIVE "
    text.append(
        mode,
        Style(color="black", bgcolor="magenta" if info.mode is Mode.DEMO else "green", bold=True),
    )
    text.append(" ")
    if present:
        text.append(" PRESENTER ", Style(color="black", bgcolor="yellow", bold=True))
        text.append(" ")
    else:
        text.append(sanitize(info.account), BOLD)
        text.append("  ")
    text.append(
        _SOURCE_TEXT[info.source], WARN if info.source is not StatusSource.CALLBACKS else DIM
    )
    if info.callback_url:
        text.append(" → ", DIM)
        text.append(sanitize(info.callback_url))
    if info.scenario:
        text.append(f"  scenario {info.scenario}", DIM)
    return text


def health_line(
    info: SessionInfo, counts: dict[MessageStatus | None, int], total_label: str
) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis", end="")
    health = info.receiver
    if health.listening:
        text.append("● ", Style(color="green"))
        text.append("receiving", BOLD)
        text.append(f" · {describe_age(health.last_callback_age)}", DIM)
    else:
        text.append("○ ", WARN)
        text.append(sanitize(health.why_not or "no receiver"), WARN)
    if health.rejected:
        text.append(f" · {health.rejected} rejected (r)", BAD)
    text.append("   ")
    text.append(total_label, BOLD)
    shown: list[MessageStatus | None] = [s for s in _ORDER if counts.get(s)]
    shown += [s for s in counts if s not in _ORDER and counts.get(s)]
    for status in shown:
        text.append("  ")
        text.append(" ", STATUS_STYLES[status])
        text.append(f" {status_label(status)} {counts[status]:,}")
    return text


class SessionHeader(Vertical):
    DEFAULT_CSS = """
    SessionHeader { height: 2; padding: 0 1; background: $panel; }
    SessionHeader > Static { height: 1; text-wrap: nowrap; text-overflow: ellipsis; }
    """

    def compose(self) -> ComposeResult:
        yield Static(id="session-line")
        yield Static(id="health-line")

    def show(
        self,
        info: SessionInfo,
        counts: dict[MessageStatus | None, int],
        total_label: str,
        *,
        present: bool = False,
    ) -> None:
        set_line(self.query_one("#session-line", Static), session_line(info, present=present))
        set_line(self.query_one("#health-line", Static), health_line(info, counts, total_label))
