"""`msgwatch export`: what the database holds, with timelines, safe to open anywhere."""

import asyncio
import csv
import io
import json
from pathlib import Path

import pytest

from tui.cli import main
from tui.domain.facts import facts_from_callback
from tui.store import EventKind, IncomingEvent, SignatureVerdict, Store

SID1, SID2 = "SM" + "1" * 32, "SM" + "2" * 32


def _event(
    sid: str, status: str, at: float, extra: tuple[tuple[str, str], ...] = ()
) -> IncomingEvent:
    params = (("MessageSid", sid), ("MessageStatus", status), ("To", "+14155550100"), *extra)
    return IncomingEvent(
        kind=EventKind.CALLBACK,
        facts=facts_from_callback(params),
        params=params,
        received_at=at,
        signature=SignatureVerdict.VALID,
        headers=(("X-Twilio-Signature", "c2lnbmF0dXJl"),),
        idempotency_token=f"{sid}-{status}",
    )


async def _fill(path: Path) -> None:
    store = await Store.open(path)
    try:
        await store.ingest(_event(SID1, "sent", 1_700_000_000))
        await store.ingest(_event(SID1, "delivered", 1_700_000_005))
        await store.ingest(
            _event(
                SID2,
                "undelivered",
                1_700_000_010,
                (("ErrorCode", "30003"), ("Body", "=HYPERLINK(x)")),
            )
        )
    finally:
        await store.close()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "m.db"
    asyncio.run(_fill(path))
    return path


def test_jsonl_has_every_message_with_its_timeline_and_no_headers(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export", "--db", str(db)]) == 0
    out, err = capsys.readouterr()
    records = [json.loads(line) for line in out.splitlines()]
    assert {r["sid"]: r["status"] for r in records} == {SID1: "delivered", SID2: "undelivered"}
    first = next(r for r in records if r["sid"] == SID1)
    assert [e["status"] for e in first["events"]] == ["sent", "delivered"]
    assert "c2lnbmF0dXJl" not in out  # request headers stay out of reports
    assert "2 messages" in err


def test_status_filter_and_csv_with_formula_guard(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "out.csv"
    assert (
        main(
            [
                "export",
                "--db",
                str(db),
                "--format",
                "csv",
                "--status",
                "undelivered",
                "-o",
                str(target),
            ]
        )
        == 0
    )
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    assert [r["sid"] for r in rows] == [SID2]
    assert rows[0]["error_code"] == "30003"
    assert rows[0]["body"] == "'=HYPERLINK(x)"  # a spreadsheet shows it, never runs it
    assert "undelivered (30003)" in rows[0]["timeline"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--status", "lost"], "not a status"),
        (["--since", "yesterday"], "not an ISO date"),
    ],
)
def test_bad_arguments_are_one_line_usage_errors(
    db: Path, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export", "--db", str(db), *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_missing_database_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export", "--db", str(tmp_path / "none.db")]) == 1
    assert "no database" in capsys.readouterr().err
