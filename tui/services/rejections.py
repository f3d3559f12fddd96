"""Why callbacks were refused: rejected requests grouped, with the likely cause.

A wrong public URL is the first thing that goes wrong when someone points Twilio at a
tunnel: Twilio signs the URL *it* called (https://abc.ngrok.app/message-status), and a
receiver that checks the URL it saw (http://127.0.0.1:1337/message-status) rejects every
callback. The stored verdict, reason and checked URL are enough to say which case it is.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from tui.domain.facts import first
from tui.store import SignatureVerdict, Store, StoredEvent


@dataclass(frozen=True, slots=True)
class RejectionGroup:
    checked_url: str
    verdict: SignatureVerdict
    reason: str
    count: int
    last_at: float
    cause: str  # the likely cause, for a person
    fix: str  # what to do about it
    example_sid: str | None


def _is_local(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_private


def diagnose(event: StoredEvent, public_url: str | None) -> tuple[str, str]:
    """(likely cause, what to do) for one rejected request."""
    url = event.checked_url or ""
    if event.signature is SignatureVerdict.MISSING:
        return (
            "No X-Twilio-Signature header: not sent by Twilio (a scanner, curl, a browser) "
            "or a proxy in front of msgwatch strips the header.",
            "If it was Twilio, configure the proxy to pass X-Twilio-* headers through.",
        )
    reason = event.rejected_reason or ""
    if "algorithm" in reason.lower() or "unsupported" in reason.lower():
        return (reason, "Check the webhook signature settings in the Twilio Console.")
    if public_url is None and _is_local(url):
        return (
            f"msgwatch checked the URL it saw ({url}), but Twilio signs the public URL it "
            "called (your tunnel or proxy address), so the signature cannot match.",
            "Start msgwatch with --public-url set to the address you gave Twilio "
            "(e.g. --public-url https://abc.ngrok.app).",
        )
    if public_url is not None and not url.startswith(public_url.rstrip("/")):
        return (
            f"The checked URL ({url}) is not under the configured public URL ({public_url}).",
            "Make --public-url exactly the origin (and path prefix) Twilio calls.",
        )
    return (
        "The URL matches the public URL, so the signature was made with a different auth "
        "token: another account or subaccount, a rotated token, or a proxy changed the body.",
        "Check TWILIO_AUTH_TOKEN is the token of the account that sends these messages.",
    )


async def rejection_groups(
    store: Store, public_url: str | None, limit: int = 500
) -> list[RejectionGroup]:
    """The newest `limit` rejected requests, grouped by (URL checked, verdict, reason),
    most recent group first."""
    events = await store.rejected_events(limit)
    groups: dict[tuple[str, str, str], list[StoredEvent]] = {}
    for event in events:
        key = (event.checked_url or "", event.signature.value, event.rejected_reason or "")
        groups.setdefault(key, []).append(event)
    result: list[RejectionGroup] = []
    for (url, _verdict, reason), members in groups.items():
        newest = max(members, key=lambda e: e.received_at)
        cause, fix = diagnose(newest, public_url)
        result.append(
            RejectionGroup(
                checked_url=url,
                verdict=newest.signature,
                reason=reason,
                count=len(members),
                last_at=newest.received_at,
                cause=cause,
                fix=fix,
                example_sid=newest.message_sid or first(newest.params, "MessageSid"),
            )
        )
    result.sort(key=lambda g: g.last_at, reverse=True)
    return result
