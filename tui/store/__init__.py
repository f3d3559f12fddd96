"""SQLite persistence: schema and migrations, the group-commit writer, keyset queries and
aggregates. Everything msgwatch knows about messages lives here between sessions."""

from .change_feed import Change, ChangeBatch, Subscription
from .records import (
    Cursor,
    EventKind,
    IncomingEvent,
    IngestResult,
    LocalMessage,
    MessageFilter,
    Page,
    SignatureVerdict,
    StoredEvent,
    StoredMessage,
)
from .schema import LATEST_VERSION, SchemaError
from .store import Store, StoreError

__all__ = [
    "LATEST_VERSION",
    "Change",
    "ChangeBatch",
    "Cursor",
    "EventKind",
    "IncomingEvent",
    "IngestResult",
    "LocalMessage",
    "MessageFilter",
    "Page",
    "SchemaError",
    "SignatureVerdict",
    "Store",
    "StoreError",
    "StoredEvent",
    "StoredMessage",
    "Subscription",
]
