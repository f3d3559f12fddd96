"""A Message resource as Twilio returned it, out of the SDK's hands.

Owns `RemoteMessage` and its making from the SDK's `MessageInstance`: the instance's
attributes go back to their JSON names and wire forms (RFC 2822 dates, counts as strings)
for the event record, and through `facts_from_resource` into `MessageFacts`, so a message
read here says exactly what the same JSON would say anywhere else in msgwatch.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from tui.domain.facts import MessageFacts, Pairs, facts_from_resource

# (JSON name, MessageInstance attribute): the 20 properties of the v2010 Message schema
# (twilio-oai `api.v2010.account.message`), in the schema's order.
_FIELDS: tuple[tuple[str, str], ...] = (
    ("body", "body"),
    ("num_segments", "num_segments"),
    ("direction", "direction"),
    ("from", "from_"),
    ("to", "to"),
    ("date_updated", "date_updated"),
    ("price", "price"),
    ("error_message", "error_message"),
    ("uri", "uri"),
    ("account_sid", "account_sid"),
    ("num_media", "num_media"),
    ("status", "status"),
    ("messaging_service_sid", "messaging_service_sid"),
    ("sid", "sid"),
    ("date_sent", "date_sent"),
    ("date_created", "date_created"),
    ("error_code", "error_code"),
    ("price_unit", "price_unit"),
    ("api_version", "api_version"),
    ("subresource_uris", "subresource_uris"),
)


@dataclass(frozen=True, slots=True)
class RemoteMessage:
    """What Twilio says about one message."""

    facts: MessageFacts
    params: Pairs  # the resource's fields as (JSON name, text); absent/null ones left out
    media_urls: tuple[str, ...] = ()


def _wire(value: object) -> str:
    if isinstance(value, datetime):
        # Twilio's own form, "Thu, 24 Aug 2023 05:01:45 +0000" (RFC 2822, GMT).
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return format_datetime(aware.astimezone(UTC))
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    return str(value)


def from_instance(instance: Any) -> RemoteMessage:
    """A RemoteMessage from the SDK's MessageInstance (untyped, hence Any)."""
    params = tuple(
        (name, _wire(value))
        for name, attribute in _FIELDS
        if (value := getattr(instance, attribute, None)) is not None
    )
    return RemoteMessage(facts=facts_from_resource(dict(params)), params=params)
