"""The message list as rows by position, loaded a block at a time: what a virtual list
widget needs to paint a million-row store without holding it.

Position 0 is the *anchor*: the newest matching row when the list was last anchored.
Rows that arrive later sit above it and are counted (`newer`), not inserted, so the
positions of what is on screen never shift under the reader; the widget re-anchors when it
follows the newest rows. Blocks are fetched by keyset from a loaded neighbour, or by
OFFSET for a jump into the middle, and only a bounded number are kept.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

from tui.domain.status import MessageStatus
from tui.store import Cursor, MessageFilter, Store, StoredMessage
from tui.store.window_queries import at_or_before

# Rows per block: one keyset page costs ~1 ms at this size (bench/store.py), and a screen
# of 20-50 rows needs at most two blocks.
BLOCK = 100
# Blocks kept in memory: a few screens of scrolling back and forth without refetching,
# a few MB at most.
MAX_BLOCKS = 40


def cursor_of(message: StoredMessage) -> Cursor:
    return Cursor(message.created_at, message.id)


@dataclass(frozen=True, slots=True)
class Patch:
    """What changed after `apply`: positions to repaint, and whether to re-anchor."""

    positions: tuple[int, ...]  # loaded rows whose content changed
    newer: int  # matching rows above the anchor
    stale: bool  # rows vanished (deleted), or nothing was anchored: re-anchor
    unknown: bool = False  # some ids were not loaded: rows may have arrived above


class MessageWindow:
    def __init__(
        self,
        store: Store,
        flt: MessageFilter | None = None,
        *,
        block: int = BLOCK,
        max_blocks: int = MAX_BLOCKS,
    ) -> None:
        self.store = store
        self.filter = flt or MessageFilter()
        self.block = block
        self.max_blocks = max_blocks
        self.anchor: Cursor | None = None
        self.total = 0  # matching rows at or below the anchor
        self.newer = 0  # matching rows above it
        self.counts: dict[MessageStatus | None, int] = {}
        self.counted = False  # total and counts are exact (not just the first block)
        self._blocks: OrderedDict[int, list[StoredMessage]] = OrderedDict()
        self._where: dict[int, int] = {}  # message id -> position, for loaded rows

    # -- anchoring -------------------------------------------------------------------

    async def reset(self, flt: MessageFilter | None = None, *, count: bool = True) -> None:
        """Anchor at the newest row matching `flt` (or the current filter).

        With `count=False` only the first block is read, and `total` is what is known so
        far (that block, plus one more if it was full, so the list can scroll); call
        `recount` next. A count of every match can take half a second at a million rows,
        and the first screen should not wait for it.
        """
        if flt is not None:
            self.filter = flt
        if not count:
            first = await self.store.page(self.filter, None, self.block)
            self._install_top(list(first.rows))
            self.total = len(first.rows) + (1 if first.next_cursor is not None else 0)
            self.counts = {}
            self.newer = 0
            self.counted = False
            return
        async with self.store.read_snapshot():
            page = await self.store.page(self.filter, None, self.block)
            counts = await self.store.count_by_status(self.filter)
        self._install_top(list(page.rows))
        self.counts = counts
        self.total = sum(counts.values())
        self.newer = 0
        self.counted = True

    async def advance(self) -> int:
        """Re-anchor at the newest row, keeping the filter; cheaper than `reset` because
        the rows that arrived are counted alone (a range above the old anchor), not the
        whole list. Returns how many rows came in."""
        if self.anchor is None:
            await self.reset()
            return self.total
        async with self.store.read_snapshot():
            came = await self.store.count_newer(self.filter, self.anchor)
            # Nothing arrived (the common case when the changes were to older rows):
            # the top block is still right, so skip re-reading it.
            first = await self.store.page(self.filter, None, self.block) if came else None
        if first is not None:
            self._install_top(list(first.rows))
            self.total += came
        self.newer = 0
        return came

    async def recount(self) -> None:
        """Fresh counts by status, and the total below the anchor: rows leave and join a
        status filter as their status changes, which no incremental count can see."""
        anchor = self.anchor
        counts, above = await self.store.count_snapshot(self.filter, anchor)
        self.apply_counts(anchor, counts, above)

    def apply_counts(
        self, anchor: Cursor | None, counts: dict[MessageStatus | None, int], above: int
    ) -> bool:
        """Take counts made for `anchor` (see Store.count_snapshot). The counts by status
        are always taken; the total only when the list is still anchored there (False
        otherwise): `advance` has kept it up to date meanwhile, and a list that follows
        a busy stream may re-anchor during every count."""
        self.counts = counts
        self.counted = True
        if anchor != self.anchor:
            return False
        if anchor is None:
            # Nothing was anchored: the rows counted are all new.
            self.newer = sum(counts.values())
            return True
        self.total = max(0, sum(counts.values()) - above)
        self.newer = above
        return True

    def _install_top(self, rows: list[StoredMessage]) -> None:
        self._blocks.clear()
        self._where.clear()
        self.anchor = cursor_of(rows[0]) if rows else None
        if rows:
            self._store_block(0, rows)

    # -- reading ---------------------------------------------------------------------

    def row(self, position: int) -> StoredMessage | None:
        """The row at `position`, or None when its block is not loaded (or it is past
        the end)."""
        rows = self._blocks.get(position // self.block)
        if rows is None:
            return None
        offset = position % self.block
        return rows[offset] if offset < len(rows) else None

    def loaded(self, position: int) -> bool:
        return position // self.block in self._blocks

    def position_of(self, message_id: int) -> int | None:
        return self._where.get(message_id)

    def blocks_for(self, start: int, stop: int) -> list[int]:
        """Blocks covering positions [start, stop) that are not loaded yet."""
        stop = min(stop, self.total)
        if start >= stop:
            return []
        first, last = start // self.block, (stop - 1) // self.block
        return [b for b in range(first, last + 1) if b not in self._blocks]

    async def load(self, index: int) -> bool:
        """Fetch block `index`; False when there is nothing there."""
        if self.anchor is None or index < 0 or index * self.block >= self.total:
            return False
        rows: list[StoredMessage]
        before = self._blocks.get(index - 1)
        after = self._blocks.get(index + 1)
        if index == 0:
            page = await self.store.page(self.filter, at_or_before(self.anchor), self.block)
            rows = list(page.rows)
        elif before is not None and len(before) == self.block:
            page = await self.store.page(self.filter, cursor_of(before[-1]), self.block)
            rows = list(page.rows)
        elif after:
            rows = await self.store.page_newer(
                self.filter, cursor_of(after[0]), self.block, anchor=self.anchor
            )
        else:
            rows = await self.store.page_at(
                self.filter, self.anchor, index * self.block, self.block
            )
        if not rows:
            # The list is shorter than counted (rows left a status filter): shrink it.
            self.total = min(self.total, index * self.block)
            return False
        self._store_block(index, rows)
        if len(rows) < self.block:
            self.total = min(self.total, index * self.block + len(rows))
        return True

    def _store_block(self, index: int, rows: list[StoredMessage]) -> None:
        old = self._blocks.pop(index, None)
        for message in old or ():
            self._where.pop(message.id, None)
        self._blocks[index] = rows
        base = index * self.block
        for offset, message in enumerate(rows):
            self._where[message.id] = base + offset
        while len(self._blocks) > self.max_blocks:
            # Forget the block farthest from the one just used: scrolling is local.
            far = max(self._blocks, key=lambda b: abs(b - index))
            for message in self._blocks.pop(far):
                self._where.pop(message.id, None)

    # -- live changes ----------------------------------------------------------------

    async def apply(self, message_ids: Iterable[int], *, count_newer: bool = True) -> Patch:
        """Refresh the loaded rows among `message_ids` from the store; count rows that
        arrived above the anchor (unless `count_newer` is False: a caller about to
        `advance` gets that count there)."""
        ids = list(message_ids)
        loaded = [i for i in ids if i in self._where]
        unknown = len(loaded) < len(ids)
        positions: list[int] = []
        stale = False
        if loaded:
            fresh = await self.store.messages_by_id(loaded)
            for message_id in loaded:
                position = self._where[message_id]
                message = fresh.get(message_id)
                if message is None:
                    stale = True
                    continue
                rows = self._blocks[position // self.block]
                offset = position % self.block
                if rows[offset] != message:
                    rows[offset] = message
                    positions.append(position)
        if unknown:
            if self.anchor is None:  # the list was empty: the caller anchors it afresh
                return Patch((), self.newer, stale=True, unknown=True)
            if count_newer:
                self.newer = await self.store.count_newer(self.filter, self.anchor)
        return Patch(tuple(sorted(positions)), self.newer, stale, unknown)
