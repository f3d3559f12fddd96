"""The live message list: a Line-API virtual list over the store (toolong's LogLines shape).

Only the visible rows are rendered, from blocks the `MessageWindow` loads by keyset; the
widget's virtual height is the row count, so a million rows cost what a screenful does.
Changes are drained from the `ChangeTracker` by one loop at most 20 times a second, so the
repaint rate does not follow the callback rate. While the cursor is on the newest row the
list follows new rows; once the reader moves away it stays put and counts "N new".
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass

from rich.segment import Segment
from textual import events, work
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.timer import Timer

from tui.services.change_tracker import ChangeTracker
from tui.services.message_window import MessageWindow
from tui.store import MessageFilter, StoredMessage

from .message_row import render_row

# At most this many repaints a second from live changes, whatever the callback rate.
MAX_FPS = 20
# A changed row is highlighted this long, so the eye finds it.
FLASH_SECONDS = 0.8
# Counts by status are a GROUP BY over the filtered rows: refreshed on their own, slower.
RECOUNT_EVERY = 1.0


class MessageList(ScrollView, can_focus=True):
    """Rows of messages, newest first, with a cursor."""

    BINDINGS = [
        Binding("up,k", "cursor_up", "Up", show=False, id="list.up"),
        Binding("down,j", "cursor_down", "Down", show=False, id="list.down"),
        Binding("pageup", "page_up", "Page up", show=False, id="list.page_up"),
        Binding("pagedown", "page_down", "Page down", show=False, id="list.page_down"),
        Binding(
            "home,g",
            "first",
            "Newest",
            show=False,
            id="list.newest",
            tooltip="Jump to the newest row and follow new ones",
        ),
        Binding("end,G", "last", "Oldest", show=False, id="list.oldest"),
        Binding("enter", "open", "Details", id="list.open", tooltip="Open the message's timeline"),
    ]

    DEFAULT_CSS = """
    MessageList { scrollbar-gutter: stable; overflow-x: hidden; }
    MessageList > .message-list--cursor { background: $accent 40%; }
    MessageList > .message-list--flash { background: $warning 30%; }
    MessageList > .message-list--placeholder { color: $text-muted; }
    """
    COMPONENT_CLASSES = {
        "message-list--cursor",
        "message-list--flash",
        "message-list--placeholder",
    }

    cursor: reactive[int] = reactive(0, repaint=False)
    following: reactive[bool] = reactive(True, repaint=False)
    newer: reactive[int] = reactive(0, repaint=False)

    @dataclass
    class Opened(Message):
        """Enter on a row."""

        message: StoredMessage

    @dataclass
    class Changed(Message):
        """The rows or counts changed (at most MAX_FPS a second): for headers and badges."""

        list: MessageList

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, MessageList.Changed)

    @dataclass
    class Resized(Message):
        """The list's width changed: column headings must follow."""

        width: int

    def __init__(
        self,
        window: MessageWindow,
        changes: ChangeTracker | None,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.window = window
        self.changes = changes
        self._lock = asyncio.Lock()  # one window operation at a time
        self._strips: LRUCache[tuple[int, int, int, int, bool, bool, bool], Strip] = LRUCache(1024)
        self.present = False  # presenter mode: masked parties and bodies, large badges
        self._flash: dict[int, float] = {}  # message id -> monotonic time the flash ends
        self._flash_timer: Timer | None = None
        self._wanted: set[int] = set()  # blocks asked for by render_line
        self._loading = False
        # Set when a reset leaves the list uncounted ("counting…" in the header).
        self._recount_soon = asyncio.Event()
        self.ready = asyncio.Event()  # set after the first page is in
        self.repaints = 0  # live-change repaints, for tests and benchmarks
        self.last_repaint: float | None = None
        self.last_patch: set[int] = set()  # ids of the rows the last repaint changed

    # -- life ------------------------------------------------------------------------

    def on_mount(self) -> None:
        self.start()

    @work(exclusive=True, group="list-reset", exit_on_error=False, description="Loading rows")
    async def start(self, flt: MessageFilter | None = None) -> None:
        """(Re)load from the top with `flt`; count afterwards; keep following changes."""
        async with self._lock:
            # The first screen does not wait for a count of every match (up to 0.5 s at
            # a million rows): the recount loop starts with one.
            await self.window.reset(flt, count=False)
            self._after_reset()
        self.ready.set()
        self._follow_changes()
        self._recount_loop()

    def _after_reset(self) -> None:
        self._strips.clear()
        self._wanted.clear()
        self.cursor = 0
        self.following = True
        self.newer = 0
        self._set_size()
        self.scroll_to(y=0, animate=False, immediate=True)
        self.refresh()
        self.post_message(self.Changed(self))
        if not self.window.counted:
            self._recount_soon.set()

    def _set_size(self) -> None:
        self.virtual_size = Size(self.size.width or 80, self.window.total)

    def apply_filter(self, flt: MessageFilter) -> None:
        self.ready.clear()
        self.start(flt)

    @work(exclusive=True, group="list-follow", exit_on_error=False, description="Live rows")
    async def _follow_changes(self) -> None:
        if self.changes is None:
            return
        period = 1 / MAX_FPS
        while True:
            await self.changes.wakeup.wait()
            started = time.monotonic()
            ids, resync = self.changes.drain()
            async with self._lock:
                await self._patch(ids, resync)
            # Pace: the next drain waits out the rest of this frame.
            await asyncio.sleep(max(0.0, period - (time.monotonic() - started)))

    async def _patch(self, ids: set[int], resync: bool) -> None:
        window = self.window
        if resync:
            await window.reset(count=False)  # the recount loop brings the total
            self._after_reset()
            return
        # While following, `advance` counts what arrived; apply need not count it too.
        patch = await window.apply(ids, count_newer=not self.following)
        if patch.stale and self.following:
            await window.reset(count=False)
            self._after_reset()
            return
        now = time.monotonic()
        changed_ids: set[int] = set()
        for position in patch.positions:
            row = window.row(position)
            if row is not None:
                self._flash[row.id] = now + FLASH_SECONDS
                changed_ids.add(row.id)
        came = await window.advance() if self.following and patch.unknown else 0
        if came:
            for position in range(min(came, window.block)):
                row = window.row(position)
                if row is not None:
                    self._flash[row.id] = now + FLASH_SECONDS
                    changed_ids.add(row.id)
            # Strips are keyed by row id and content, so the cache stays valid as rows
            # shift down; only the size and the screen need redoing.
            self._set_size()
            self.refresh()
        else:
            self.newer = patch.newer
            for position in patch.positions:
                self._refresh_position(position)
        self._expire_flashes(now)
        self.repaints += 1
        self.last_repaint = time.monotonic()
        self.last_patch = changed_ids
        self.post_message(self.Changed(self))

    def _expire_flashes(self, now: float) -> None:
        for message_id, until in list(self._flash.items()):
            if until <= now:
                del self._flash[message_id]
                position = self.window.position_of(message_id)
                if position is not None:
                    self._refresh_position(position)
        if self._flash and self._flash_timer is None:
            # One pending timer at most: a timer per patch would pile up under load.
            soonest = min(self._flash.values())
            self._flash_timer = self.set_timer(max(0.05, soonest - now), self._flash_due)

    def _flash_due(self) -> None:
        self._flash_timer = None
        self._expire_flashes(time.monotonic())

    @work(exclusive=True, group="list-recount", exit_on_error=False, description="Counting")
    async def _recount_loop(self) -> None:
        while True:
            started = time.monotonic()
            self._recount_soon.clear()
            anchor = self.window.anchor
            # Counted on the store's aggregates connection, outside the list's lock: live
            # patches and page loads go on while a big count runs.
            counts, above = await self.window.store.count_snapshot(self.window.filter, anchor)
            took = time.monotonic() - started
            async with self._lock:
                before = self.window.total
                if self.window.apply_counts(anchor, counts, above):
                    if self.window.total != before:
                        self._set_size()
                        self.refresh()
                    self.newer = 0 if self.following else self.window.newer
            self.post_message(self.Changed(self))
            # A count that takes long is repeated less often: at most ~10% of the time.
            # But a reset meanwhile (a live re-anchor) leaves the header "counting…": that
            # is recounted a second after the last count began, however slow that was.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(RECOUNT_EVERY, took * 10)):
                    await self._recount_soon.wait()
            await asyncio.sleep(max(0.0, started + RECOUNT_EVERY - time.monotonic()))

    # -- painting --------------------------------------------------------------------

    def _refresh_position(self, position: int) -> None:
        y = position - int(self.scroll_offset.y)
        if 0 <= y < self.size.height:
            self.refresh_line(y)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        position = int(self.scroll_offset.y) + y
        if position >= self.window.total:
            return Strip.blank(width, self.rich_style)
        row = self.window.row(position)
        if row is None:
            self._want(position)
            style = self.get_component_rich_style("message-list--placeholder")
            return Strip([Segment("  …".ljust(width), style)], width)
        selected = position == self.cursor
        flashing = row.id in self._flash
        present = self.present
        key = (row.id, row.change_seq, width, int(row.status_at * 1000), selected, flashing,
               present)  # fmt: skip
        strip = self._strips.get(key)
        if strip is None:
            text = render_row(row, width, present=present)
            style = self.rich_style
            if flashing:
                style += self.get_component_rich_style("message-list--flash")
            if selected:
                style += self.get_component_rich_style("message-list--cursor")
            text.stylize_before(style)
            strip = Strip(text.render(self.app.console), width).crop_extend(0, width, style)
            self._strips[key] = strip
        return strip

    def _want(self, position: int) -> None:
        self._wanted.add(position // self.window.block)
        if not self._loading:
            self._loading = True
            self.call_later(self._load_wanted)

    @work(group="list-pages", exit_on_error=False, description="Loading a page")
    async def _load_wanted(self) -> None:
        try:
            while self._wanted:
                top = int(self.scroll_offset.y)
                block = self.window.block
                visible = set(range(top // block, (top + self.size.height) // block + 1))
                wanted = sorted(self._wanted & visible) or sorted(self._wanted)[:1]
                self._wanted.clear()
                async with self._lock:
                    for index in wanted:
                        await self.window.load(index)
                self._set_size()
                self.refresh()
        finally:
            self._loading = False

    # -- moving ----------------------------------------------------------------------

    def watch_cursor(self, old: int, new: int) -> None:
        self._refresh_position(old)
        self._refresh_position(new)
        self.following = new == 0 and int(self.scroll_offset.y) == 0

    def watch_following(self, following: bool) -> None:
        if following and self.window.newer:
            self._catch_up()

    @work(exclusive=True, group="list-catch-up", exit_on_error=False)
    async def _catch_up(self) -> None:
        async with self._lock:
            await self.window.advance()
            self._after_reset()

    def _move(self, position: int) -> None:
        total = self.window.total
        position = max(0, min(position, total - 1)) if total else 0
        self.cursor = position
        self.scroll_to_region_of(position)

    def scroll_to_region_of(self, position: int) -> None:
        top = int(self.scroll_offset.y)
        height = max(1, self.size.height)
        if position < top:
            self.scroll_to(y=position, animate=False, immediate=True)
        elif position >= top + height:
            self.scroll_to(y=position - height + 1, animate=False, immediate=True)

    def action_cursor_up(self) -> None:
        self._move(self.cursor - 1)

    def action_cursor_down(self) -> None:
        self._move(self.cursor + 1)

    def action_page_up(self) -> None:
        self._move(self.cursor - max(1, self.size.height - 1))

    def action_page_down(self) -> None:
        self._move(self.cursor + max(1, self.size.height - 1))

    def action_first(self) -> None:
        if self.window.newer:
            self._catch_up()
        self._move(0)

    def action_last(self) -> None:
        self._move(self.window.total - 1)

    def action_open(self) -> None:
        row = self.window.row(self.cursor)
        if row is not None:
            self.post_message(self.Opened(row))

    def on_click(self, event: events.Click) -> None:
        position = int(self.scroll_offset.y) + event.y
        if position < self.window.total:
            if position == self.cursor and event.chain >= 2:
                self.action_open()
            self._move(position)

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        self.following = int(new) == 0 and self.cursor == 0

    def on_resize(self, event: events.Resize) -> None:
        self.post_message(self.Resized(event.size.width))

    def on_focus(self) -> None:
        self._refresh_position(self.cursor)

    def on_blur(self) -> None:
        self._refresh_position(self.cursor)

    @property
    def current(self) -> StoredMessage | None:
        return self.window.row(self.cursor)

    def set_present(self, present: bool) -> None:
        if present != self.present:
            self.present = present
            self._strips.clear()
            self.refresh()

    def rendered_text(self) -> list[str]:
        """The visible lines as plain text (tests, benchmarks)."""
        return [self.render_line(y).text for y in range(self.size.height)]
