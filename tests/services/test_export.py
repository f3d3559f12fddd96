"""`msgwatch export`: what the database holds, with timelines, safe to open anywhere."""

import asyncio
import csv
import io
import json
from pathlib import Path

import pytest

from tui.cli import main
from tui.domain.facts import facts_from_callback
from tui.services.export import ExportFormat, export_lines
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


# Presenter mode --------------------------------------------------------------------------

PERSON = "+447400123456"
SENDER = "+14155550100"
SECRET_BODY = "Meet me at 42 Baker Street"
PROFILE = "Sherlock Holmes"
INBOUND_SID = "SM" + "3" * 32


async def _fill_personal(path: Path) -> None:
    store = await Store.open(path)
    try:
        failed = (
            ("MessageSid", SID1),
            ("MessageStatus", "undelivered"),
            ("From", SENDER),
            ("To", PERSON),
            ("Body", SECRET_BODY),
            ("ErrorCode", "30003"),
            ("ErrorMessage", f"Unreachable destination handset {PERSON}"),
            ("ToCountry", "GB"),
        )
        inbound = (
            ("MessageSid", INBOUND_SID),
            ("SmsStatus", "received"),
            ("From", f"whatsapp:{PERSON}"),
            ("To", f"whatsapp:{SENDER}"),
            ("Body", SECRET_BODY),
            ("ProfileName", PROFILE),
            ("WaId", PERSON[1:]),
        )
        for i, params in enumerate((failed, inbound)):
            await store.ingest(
                IncomingEvent(
                    kind=EventKind.CALLBACK,
                    facts=facts_from_callback(params),
                    params=params,
                    received_at=1_700_000_000 + i,
                    signature=SignatureVerdict.VALID,
                    headers=(),
                    idempotency_token=f"personal-{i}",
                )
            )
    finally:
        await store.close()


async def _export(path: Path, fmt: ExportFormat, *, masked: bool) -> str:
    store = await Store.open(path)
    try:
        return "".join([line async for line in export_lines(store, fmt, masked=masked)])
    finally:
        await store.close()


@pytest.fixture
def personal_db(tmp_path: Path) -> Path:
    path = tmp_path / "p.db"
    asyncio.run(_fill_personal(path))
    return path


# Every way the person's number or words could be written in an export.
_PERSONAL = (PERSON, PERSON[1:], SECRET_BODY, "Baker Street", PROFILE)


@pytest.mark.parametrize("fmt", list(ExportFormat))
def test_masked_export_holds_no_number_and_no_body(personal_db: Path, fmt: ExportFormat) -> None:
    out = asyncio.run(_export(personal_db, fmt, masked=True))
    for personal in _PERSONAL:
        assert personal not in out
    assert SENDER not in out  # the business number is masked too: it is a phone
    assert "+44 \u2022\u2022\u2022\u2022\u2022\u2022\u2022\u2022" in out
    assert "\u2039hidden: 26 characters\u203a" in out
    assert "Unreachable destination handset +44" in out  # the error stays readable
    assert SID1 in out and INBOUND_SID in out


@pytest.mark.parametrize("fmt", list(ExportFormat))
def test_unmasked_export_still_holds_everything(personal_db: Path, fmt: ExportFormat) -> None:
    out = asyncio.run(_export(personal_db, fmt, masked=False))
    # CSV has no column for the callback params, so no profile name or WhatsApp ID.
    shown = _PERSONAL if fmt is ExportFormat.JSONL else (PERSON, SECRET_BODY)
    for personal in shown:
        assert personal in out
    assert "hidden" not in out and "\u2022" not in out


def test_masked_jsonl_masks_the_callback_params(personal_db: Path) -> None:
    out = asyncio.run(_export(personal_db, ExportFormat.JSONL, masked=True))
    records = {r["sid"]: r for r in map(json.loads, out.splitlines())}
    inbound = records[INBOUND_SID]
    assert inbound["from"] == "whatsapp:+44 \u2022\u2022\u2022\u2022\u2022\u2022\u2022\u202256"
    assert inbound["body"] == "\u2039hidden: 26 characters\u203a"
    params = dict(map(tuple, inbound["events"][0]["params"]))
    assert params["From"] == inbound["from"]
    assert params["WaId"] == "\u2022" * 10 + "56"
    assert params["ProfileName"] == "\u2039hidden: 15 characters\u203a"
    assert params["SmsStatus"] == "received"
    failed = records[SID1]
    assert failed["error_message"] == (
        "Unreachable destination handset +44 \u2022\u2022\u2022\u2022\u2022\u2022\u2022\u202256"
    )
    assert dict(map(tuple, failed["events"][0]["params"]))["ToCountry"] == "GB"


def test_masked_csv_masks_the_columns(personal_db: Path) -> None:
    out = asyncio.run(_export(personal_db, ExportFormat.CSV, masked=True))
    rows = {r["sid"]: r for r in csv.DictReader(io.StringIO(out))}
    assert rows[SID1]["to"] == "+44 \u2022\u2022\u2022\u2022\u2022\u2022\u2022\u202256"
    assert rows[SID1]["from"] == "+1 \u2022\u2022\u2022\u2022\u2022\u2022\u2022\u202200"
    assert rows[SID1]["body"] == "\u2039hidden: 26 characters\u203a"
