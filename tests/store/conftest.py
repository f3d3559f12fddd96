"""A real SQLite file in a temp dir for every test."""

import sqlite3
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from tui.domain.facts import facts_from_callback
from tui.store import EventKind, IncomingEvent, SignatureVerdict, Store
from tui.store.schema import migration_steps


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = await Store.open(tmp_path / "msgwatch.db")
    try:
        yield s
    finally:
        await s.close()


def sid(n: int) -> str:
    return f"SM{n:032x}"


def callback(
    message_sid: str | None,
    status: str,
    *,
    at: float = 1_700_000_000.0,
    extra: Sequence[tuple[str, str]] = (),
    token: str | None = None,
    local_id: str | None = None,
    signature: SignatureVerdict = SignatureVerdict.VALID,
    kind: EventKind = EventKind.CALLBACK,
) -> IncomingEvent:
    params: list[tuple[str, str]] = []
    if message_sid is not None:
        params += [("MessageSid", message_sid), ("SmsSid", message_sid)]
    params += [("MessageStatus", status), ("SmsStatus", status), *extra]
    return IncomingEvent(
        kind=kind,
        facts=facts_from_callback(params),
        params=tuple(params),
        received_at=at,
        signature=signature,
        local_id=local_id,
        idempotency_token=token,
        headers=(("I-Twilio-Idempotency-Token", token),) if token else (),
    )


def schema_at(conn: sqlite3.Connection, version: int) -> None:
    """Give an empty database the schema exactly as `version` left it (for migration
    tests: rows written at that version, then opened by this build)."""
    for step, statements in migration_steps(0, target=version):
        for statement in statements:
            conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {step}")


def connect_plain(path: str) -> sqlite3.Connection:
    """A writer connection with no schema, for tests of the writer machinery itself."""
    return sqlite3.connect(path, isolation_level=None)
