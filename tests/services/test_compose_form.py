"""The compose pane's rules without widgets: field notes, parsing, the Draft it builds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tui.services.compose_form import (
    ComposeForm,
    build_draft,
    field_for_code,
    from_note,
    parse_media,
    parse_validity,
    send_at_note,
    sender_choices,
    to_note,
)
from tui.services.lifecycle import DraftError

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
PARIS = ZoneInfo("Europe/Paris")
MG = "MG" + "ab" * 16


def test_to_note_names_the_country_or_the_problem() -> None:
    assert to_note("") is None
    note = to_note("+44 7400 123456")
    assert note is not None and note.ok and "United Kingdom" in note.text
    assert "+447400123456" in note.text
    whatsapp = to_note("whatsapp:+14155550100")
    assert whatsapp is not None and whatsapp.text.startswith("whatsapp")
    bad = to_note("hello")
    assert bad is not None and not bad.ok


def test_from_note_says_what_kind_of_sender() -> None:
    assert "Messaging Service" in from_note(MG, None).text
    assert "sender ID" in from_note("ACME", None).text
    assert from_note("", "+14155550111").text == "default: +14155550111"
    assert not from_note("", None).ok


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("", None), ("600", 600), ("10m", 600), ("2h", 7200), ("2 hours", 7200), ("36000", 36000)],
)
def test_validity_spans(text: str, seconds: int | None) -> None:
    assert parse_validity(text) == seconds


@pytest.mark.parametrize("text", ["0", "11h", "soon", "-5", "36001"])
def test_validity_out_of_range_names_the_field(text: str) -> None:
    with pytest.raises(DraftError) as caught:
        parse_validity(text)
    assert caught.value.field == "ValidityPeriod"


def test_media_urls_are_split_and_checked() -> None:
    assert parse_media(" https://a.example/1.png, https://a.example/2.png ") == (
        "https://a.example/1.png",
        "https://a.example/2.png",
    )
    with pytest.raises(DraftError, match="http"):
        parse_media("ftp://x")
    with pytest.raises(DraftError) as caught:
        parse_media(" ".join(f"https://a.example/{n}" for n in range(11)))
    assert caught.value.code == 21623


def test_send_at_note_applies_the_schedule_rules() -> None:
    form = ComposeForm(schedule=True, send_at="in 20m", from_="+14155550111")
    without = send_at_note(form, NOW, PARIS, None)
    assert without is not None and not without.ok and "Messaging Service" in without.text
    with_service = send_at_note(
        ComposeForm(schedule=True, send_at="in 20m", from_=MG), NOW, PARIS, None
    )
    assert with_service is not None and with_service.ok and "UTC" in with_service.text
    too_soon = send_at_note(ComposeForm(schedule=True, send_at="in 5m", from_=MG), NOW, PARIS, None)
    assert too_soon is not None and not too_soon.ok
    assert send_at_note(ComposeForm(), NOW, PARIS, None) is None


def test_build_draft_reads_every_field() -> None:
    draft = build_draft(
        ComposeForm(
            to=" +447400123456 ",
            from_=MG,
            body="hi",
            media="https://a.example/1.png",
            validity="1h",
            schedule=True,
            send_at="in 1h",
        ),
        NOW,
        PARIS,
        resend_of=7,
    )
    assert draft.to == "+447400123456"
    assert draft.messaging_service_sid == MG and draft.from_ is None
    assert draft.send_at == NOW + timedelta(hours=1)
    assert draft.validity_period == 3600 and draft.resend_of == 7
    assert draft.media_urls == ("https://a.example/1.png",)


def test_build_draft_refuses_an_unreadable_send_at() -> None:
    with pytest.raises(DraftError) as caught:
        build_draft(ComposeForm(to="+1", schedule=True, send_at="whenever"), NOW, PARIS)
    assert caught.value.field == "SendAt"


def test_error_codes_map_to_fields() -> None:
    assert field_for_code(21610) == "To"
    assert field_for_code(21606) == "From"
    assert field_for_code(35118) == "SendAt"
    assert field_for_code(30007) is None
    assert field_for_code(None) is None


def test_sender_choices_keep_order_without_repeats() -> None:
    assert sender_choices("+1", MG, ["+1", "+2"]) == ("+1", MG, "+2")
