"""Turning callbacks and REST resources into facts; the de-duplication key."""

import hashlib
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from tui.domain.facts import content_key, facts_from_callback, facts_from_resource
from tui.domain.status import MessageStatus

SID = "SM" + "a" * 32


def test_status_callback_fields() -> None:
    facts = facts_from_callback(
        [
            ("MessageSid", SID),
            ("SmsSid", SID),
            ("MessageStatus", "undelivered"),
            ("SmsStatus", "undelivered"),
            ("To", "+14155550100"),
            ("From", "+14155550111"),
            ("AccountSid", "AC" + "b" * 32),
            ("ErrorCode", "30003"),
            ("RawDlrDoneDate", "2311231530"),
            ("ApiVersion", "2010-04-01"),
            ("SomethingTwilioAddsLater", "x"),
        ]
    )
    assert facts.sid == SID
    assert facts.status is MessageStatus.UNDELIVERED
    assert facts.error_code == 30003
    assert facts.to_addr == "+14155550100" and facts.from_addr == "+14155550111"
    assert facts.raw_dlr_done_date == "2311231530"
    assert facts.direction is None  # outbound callbacks do not say; the row keeps its own


def test_inbound_webhook_fields_and_media_order() -> None:
    facts = facts_from_callback(
        [
            ("MessageSid", "MM" + "c" * 32),
            ("SmsStatus", "received"),
            ("Body", "hi there"),
            ("NumMedia", "2"),
            ("MediaUrl1", "https://example.com/b"),
            ("MediaUrl0", "https://example.com/a"),
        ]
    )
    assert facts.direction == "inbound"
    assert facts.status is MessageStatus.RECEIVED
    assert facts.body == "hi there" and facts.num_media == 2
    assert facts.media_urls == ("https://example.com/a", "https://example.com/b")


def test_garbage_numbers_become_none() -> None:
    facts = facts_from_callback(
        [("MessageSid", SID), ("ErrorCode", "9" * 30), ("NumMedia", "two"), ("NumSegments", "-1")]
    )
    assert facts.error_code is None and facts.num_media is None and facts.num_segments is None


def test_unknown_status_is_flagged_not_lost() -> None:
    facts = facts_from_callback([("MessageSid", SID), ("MessageStatus", "teleported")])
    assert facts.status is None
    assert facts.status_raw == "teleported"
    assert not facts.status_known


def test_resource_fields_and_rfc2822_dates() -> None:
    facts = facts_from_resource(
        {
            "sid": SID,
            "status": "delivered",
            "num_segments": "2",
            "error_code": None,
            "date_created": "Thu, 24 Aug 2023 05:01:45 +0000",
            "date_sent": "not a date",
            "from": "+14155550111",
            "to": "+14155550100",
            "body": "",
        }
    )
    assert facts.status is MessageStatus.DELIVERED
    assert facts.num_segments == 2
    assert facts.date_created == datetime(2023, 8, 24, 5, 1, 45, tzinfo=UTC)
    assert facts.date_sent is None
    assert facts.body == ""  # a redacted body is a fact, not a missing one


def test_content_key_ignores_order_keeps_repeats_and_values() -> None:
    a = [("MessageSid", SID), ("MessageStatus", "sent")]
    assert content_key(a) == content_key(list(reversed(a)))
    assert content_key(a) != content_key([*a, ("MessageStatus", "sent")])
    assert content_key(a) != content_key([("MessageSid", SID), ("MessageStatus", "delivered")])
    # Name/value boundaries matter: ("ab","c") is not ("a","bc").
    assert content_key([("ab", "c")]) != content_key([("a", "bc")])


def _content_key_v1(pairs: list[tuple[str, str]]) -> str:
    # The first implementation, whose digests are in stored events' content_hash.
    digest = hashlib.sha256()
    for key, value in sorted(pairs):
        digest.update(key.encode("utf-8", "surrogatepass"))
        digest.update(b"\x00")
        digest.update(value.encode("utf-8", "surrogatepass"))
        digest.update(b"\x01")
    return digest.hexdigest()


@given(st.lists(st.tuples(st.text(), st.text()), max_size=8))
def test_content_key_never_raises_and_keeps_stored_digests(pairs: list[tuple[str, str]]) -> None:
    # A changed digest would let every redelivery of an already stored callback in again.
    assert content_key(pairs) == _content_key_v1(pairs)


def test_media_indexes_are_small_ascii_numbers() -> None:
    facts = facts_from_callback(
        [("MediaUrl\u00b2", "a"), ("MediaUrl" + "1" * 5000, "b"), ("MediaUrl1", "c")]
    )
    assert facts.media_urls == ("c",)
