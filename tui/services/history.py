"""Importing the account's message history for a time window into the store.

Pages through the Messages list (`DateSent>` / `DateSent<`, newest first, up to 1000 per
page) and stores each message as a fetch event, through the same merge rule as
everything else: importing twice, or over messages the console already follows, changes
nothing that is already known and never moves a status backwards.

Resumable: after each stored page the URL of the next one is kept in the store, under a
key naming the window; running the same import again continues from there, and a
finished import forgets its key.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from tui.store import EventKind

from .lifecycle import Lifecycle

MAX_PAGE_SIZE = 1000  # Twilio's limit for PageSize


@dataclass(frozen=True, slots=True)
class ImportReport:
    messages: int
    pages: int
    resumed: bool
    finished: bool


def import_key(since: datetime, until: datetime | None) -> str:
    end = until.isoformat() if until else "now"
    return f"import:{since.isoformat()}..{end}"


async def import_history(
    lifecycle: Lifecycle,
    since: datetime,
    until: datetime | None = None,
    *,
    page_size: int = MAX_PAGE_SIZE,
    max_pages: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Store every message sent in [since, until); `max_pages` stops early (resumable)."""
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValueError(f"page_size must be 1..{MAX_PAGE_SIZE}, not {page_size}.")
    store = lifecycle.store
    key = import_key(since, until)
    page_url = await store.get_sync_state(key)
    resumed = page_url is not None
    messages = pages = 0
    while max_pages is None or pages < max_pages:
        found, next_url = await lifecycle.gateway.list_page(
            date_sent_after=since,
            date_sent_before=until,
            page_size=page_size,
            page_url=page_url,
        )
        # One group commit for the whole page rather than one per message.
        await asyncio.gather(*(lifecycle.record_remote(m, EventKind.FETCH) for m in found))
        messages += len(found)
        pages += 1
        if progress is not None:
            progress(messages, pages)
        await store.set_sync_state(key, next_url)  # None: finished, forget the key
        if next_url is None:
            return ImportReport(messages, pages, resumed, finished=True)
        page_url = next_url
    return ImportReport(messages, pages, resumed, finished=False)
