"""A webhook request, from its raw parts to the event the store keeps (or a refusal).

`prepare_webhook` runs in the store's writer process (see `tui.store.Unprepared`): parsing
the form, checking the signature and reading the facts cost as much as storing them, and
on the receiver's event loop they competed with answering requests (and, in the console,
with painting). The loop now only reads the request, hands its raw parts over, and
answers with what comes back.
"""

from __future__ import annotations

from contextlib import suppress
from typing import NamedTuple
from urllib.parse import parse_qsl

from tui.domain.facts import facts_from_callback, first
from tui.domain.signature import SIGNATURE_HEADER
from tui.store import EventKind, IncomingEvent
from tui.store.records import Prepared

from .form import BadRequest, Pairs, read_webhook
from .verify import SignatureConfig, checked_url, verify


class RawWebhook(NamedTuple):
    """One request as the event loop read it; nothing in it has been decoded or trusted."""

    kind: EventKind
    method: str
    content_type: str
    body: bytes
    query: str  # the raw query string
    raw_path: str  # path and query exactly as sent
    # The origin of the URL as this server saw it (receiver.seen_origin), used only
    # without a public URL; None when the Host header could not form one.
    seen_origin: str | None
    signature: str | None  # X-Twilio-Signature
    headers: Pairs  # the headers kept with the event (the signature's settings among them)
    received_at: float
    config: SignatureConfig  # one object for every request: pickled once per batch
    log_body: bool  # put the body in the note (for `--log-bodies`)


class WebhookNote(NamedTuple):
    """What the receiver needs back for its answer and its log line."""

    status: int  # 200, 400 or 413 (refused before storing), 403 (rejected: stored, flagged)
    message: str  # the refusal or rejection, said for a person; "" when accepted
    sid: str | None
    status_raw: str | None
    verdict: str  # SignatureVerdict value
    body: str | None  # only when asked for


def prepare_webhook(raw: RawWebhook) -> Prepared:
    """The IncomingEvent for `raw`, or a refusal: runs in the writer process."""
    try:
        webhook = read_webhook(raw.method, raw.content_type, raw.body, raw.query)
    except BadRequest as exc:
        return Prepared(None, WebhookNote(exc.status, exc.message, None, None, "", None))
    # A Host header no URL can hold ("x:99999", "a]b") leaves the bare path: no signature
    # can match it, so the request is rejected (and kept) like any other forgery.
    url = raw.raw_path
    public = raw.config.public_url
    if public or raw.seen_origin is not None:
        with suppress(ValueError):
            url = checked_url(public, raw.seen_origin or "", raw.raw_path)
    headers = dict(raw.headers)
    if raw.signature is not None:
        headers[SIGNATURE_HEADER] = raw.signature
    verdict = verify(raw.config, webhook, headers, url)
    facts = facts_from_callback(webhook.fields)
    if raw.kind is EventKind.INBOUND and facts.status_raw is None:
        # An inbound webhook is a received message even when SmsStatus is left out.
        facts = facts._replace(status_raw="received", direction="inbound")
    body = facts.body if raw.log_body else None
    note = WebhookNote(
        403 if verdict.reason else 200,
        verdict.reason or "",
        facts.sid,
        facts.status_raw,
        verdict.verdict.value,
        body,
    )
    if verdict.accepted:
        problem = _missing_fields(raw.kind, facts.sid, webhook.fields)
        if problem:
            return Prepared(None, note._replace(status=400, message=problem))
    event = IncomingEvent(
        kind=raw.kind,
        facts=facts,
        params=webhook.fields,
        received_at=raw.received_at,
        signature=verdict.verdict,
        local_id=_local_id(raw.query),
        headers=raw.headers,
        idempotency_token=first(raw.headers, "I-Twilio-Idempotency-Token"),
        rejected_reason=verdict.reason,
        checked_url=url,
    )
    return Prepared(event, note)


def _missing_fields(kind: EventKind, sid: str | None, fields: Pairs) -> str | None:
    if not sid:
        return "MessageSid is missing."
    if (
        kind is EventKind.CALLBACK
        and not first(fields, "MessageStatus")
        and not first(fields, "SmsStatus")
    ):
        return "MessageStatus is missing."
    return None


def _local_id(query: str) -> str | None:
    """The `lid` our own StatusCallback URLs carry. An empty one is no local id: stored
    as "", a second one broke the unique index (a 500 Twilio would retry for ever)."""
    if "lid=" not in query:
        return None
    for name, value in parse_qsl(query, keep_blank_values=True, errors="replace"):
        if name == "lid":
            return value or None
    return None
