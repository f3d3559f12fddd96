"""The filter bar (`/`): a query input, completions under it, errors said inline.

The query language lives in `tui.services.filter_query`; this widget only edits text,
shows what `complete()` offers for the word under the cursor, and reports `parse_query`'s
verdict: a valid query is posted as `FilterBar.Applied`, an invalid one is explained in
place with the offending part pointed at.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from rich.style import Style
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.suggester import Suggester
from textual.widgets import Input, Static

from tui.services.filter_query import ParsedQuery, QueryError, complete, parse_query

from .safe_text import sanitize

ERROR = Style(color="red", bold=True)
DIM = Style(dim=True)
MAX_SHOWN = 8  # completions listed under the input


class QuerySuggester(Suggester):
    """Inline completion (accepted with →) from the first candidate."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)

    async def get_suggestion(self, value: str) -> str | None:
        candidates = complete(value, len(value))
        if not candidates:
            return None
        first = candidates[0].replacement
        return first if first.startswith(value) and first != value else None


class FilterBar(Vertical):
    DEFAULT_CSS = """
    FilterBar { height: auto; display: none; }
    FilterBar.-open { display: block; }
    FilterBar > Input { border: tall $accent; }
    FilterBar > #filter-hint { height: 1; padding: 0 1; color: $text-muted; }
    """
    BINDINGS = [Binding("escape", "close", "Close filter", show=True, id="filter.close")]

    @dataclass
    class Applied(Message):
        query: ParsedQuery

    @dataclass
    class Closed(Message):
        pass

    def __init__(self, stuck_after: timedelta, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.stuck_after = stuck_after
        self.error: QueryError | None = None

    def compose(self) -> ComposeResult:
        yield Input(
            placeholder='status:undelivered,failed error:30007 to:+44 since:1h text:"order" stuck',
            suggester=QuerySuggester(),
            id="filter-input",
        )
        yield Static(id="filter-hint")

    @property
    def input(self) -> Input:
        return self.query_one("#filter-input", Input)

    def open(self, text: str | None = None) -> None:
        self.add_class("-open")
        if text is not None:
            self.input.value = text
            self.input.cursor_position = len(text)
        self.input.focus()
        self._show_hint()

    def action_close(self) -> None:
        self.remove_class("-open")
        self.post_message(self.Closed())

    @on(Input.Changed, "#filter-input")
    def _query_edited(self) -> None:
        self.error = None
        self._show_hint()

    @on(Input.Submitted, "#filter-input")
    def _query_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.submit(event.value)

    def submit(self, text: str) -> ParsedQuery | None:
        try:
            parsed = parse_query(text, now=datetime.now(UTC), stuck_after=self.stuck_after)
        except QueryError as exc:
            self.error = exc
            self._show_error(text, exc)
            return None
        self.error = None
        self.post_message(self.Applied(parsed))
        self.action_close()
        return parsed

    def _show_error(self, text: str, error: QueryError) -> None:
        hint = Text(no_wrap=True, overflow="ellipsis", end="")
        hint.append("✗ ", ERROR)
        hint.append(sanitize(error.message), ERROR)
        if error.end > error.start:
            hint.append("  at ", DIM)
            hint.append(sanitize(text[error.start : error.end]), Style(color="red", underline=True))
        self.query_one("#filter-hint", Static).update(hint)

    def _show_hint(self) -> None:
        field = self.input
        candidates = complete(field.value, field.cursor_position)
        hint = Text(no_wrap=True, overflow="ellipsis", end="")
        if candidates:
            for i, candidate in enumerate(candidates[:MAX_SHOWN]):
                if i:
                    hint.append("  ")
                hint.append(sanitize(candidate.label), Style(bold=True))
                if candidate.help:
                    hint.append(f" {sanitize(candidate.help)}", DIM)
        else:
            hint.append(
                "enter applies · esc closes · → accepts the suggestion · empty shows all", DIM
            )
        self.query_one("#filter-hint", Static).update(hint)
