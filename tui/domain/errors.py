"""The Twilio error-code catalog: what a code means and what a person should do about it.

Owns the mapping from a Twilio error code (a message's `ErrorCode`, or the `code` of a REST
error response) to an `ErrorInfo`: a title, a one-line explanation, a one-line next step,
and whether sending again (later) can help. Codes not in the catalog still render, as an
"unknown" entry that points at Twilio's page for the code.

Titles and explanations follow Twilio's pages: the delivery-related table of the Message
resource (https://www.twilio.com/docs/messaging/api/message-resource) and the per-code pages
under https://www.twilio.com/docs/api/errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

DOCS_BASE = "https://www.twilio.com/docs/api/errors/"

# Twilio's codes are five digits; six leaves room and still rejects obvious garbage such as
# a message SID or a timestamp that landed in the ErrorCode field.
_MAX_CODE_DIGITS = 6


def docs_url(code: int) -> str:
    """Twilio's page for an error code."""
    return f"{DOCS_BASE}{code}"


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    """What msgwatch knows about one Twilio error code."""

    code: int
    title: str
    explanation: str  # one line: what happened
    next_step: str  # one line: what to do next
    retryable: bool  # can sending the same message again (later) help?
    known: bool = True  # False for codes not in the catalog

    @property
    def docs_url(self) -> str:
        return docs_url(self.code)


def _entry(code: int, title: str, explanation: str, next_step: str, retryable: bool) -> ErrorInfo:
    return ErrorInfo(code, title, explanation, next_step, retryable, known=True)


_ENTRIES: tuple[ErrorInfo, ...] = (
    # --- Delivery: exactly the codes of the Message resource's delivery-related table
    # (https://www.twilio.com/docs/messaging/api/message-resource), then 30032/30034/30036/
    # 30500 from their own pages. These arrive on failed/undelivered messages.
    _entry(
        30001,
        "Queue overflow",
        "Messages were sent too many too quickly and the sender's queue overflowed.",
        "Wait, then send again at a lower rate.",
        retryable=True,
    ),
    _entry(
        30002,
        "Account suspended",
        "The account was suspended between sending the message and delivering it.",
        "Contact Twilio support about the suspension before sending anything else.",
        retryable=False,
    ),
    _entry(
        30003,
        "Unreachable destination handset",
        "The destination handset is switched off or otherwise unavailable.",
        "Send again later, when the handset is likely to be on and in coverage.",
        retryable=True,
    ),
    _entry(
        30004,
        "Message blocked",
        "The destination is blocked from receiving this message (for example, blocklisting).",
        "Ask the recipient to unblock the sender or contact their carrier; do not resend.",
        retryable=False,
    ),
    # Not retryable: the carrier says the number is unknown and may no longer exist, so the
    # same message to the same number is not expected to fare better.
    _entry(
        30005,
        "Unknown destination handset",
        "The destination number is unknown to the carrier and may no longer exist.",
        "Check the number with the recipient before sending to it again.",
        retryable=False,
    ),
    _entry(
        30006,
        "Landline or unreachable carrier",
        "The destination is a landline or its carrier cannot receive this message.",
        "Use a mobile number for the recipient, or reach them another way.",
        retryable=False,
    ),
    _entry(
        30007,
        "Carrier violation",
        "The carrier flagged the message as objectionable (spam or content filtering).",
        "Review the content and your sender registration; resending it unchanged will fail.",
        retryable=False,
    ),
    _entry(
        30008,
        "Unknown error",
        "Delivery failed for a reason the carrier did not report.",
        "Send again later; if it keeps failing, contact Twilio support with the message SID.",
        retryable=True,
    ),
    _entry(
        30009,
        "Missing segment",
        "A segment of a multi-part inbound message was not received.",
        "Ask the sender to send the message again.",
        retryable=False,
    ),
    _entry(
        30010,
        "Message price exceeds max price",
        "The message would cost more than the MaxPrice set on it.",
        "Raise or remove MaxPrice, then send again.",
        retryable=False,
    ),
    _entry(
        30032,
        "Toll-free number not verified",
        "The message was sent from a toll-free number that has not been verified.",
        "Complete toll-free verification for the number, or send from a verified sender.",
        retryable=False,
    ),
    _entry(
        30034,
        "Message from an unregistered number",
        "A US A2P 10DLC message was sent from a number not registered to a campaign.",
        "Register the number to an approved A2P 10DLC campaign, or use a registered sender.",
        retryable=False,
    ),
    _entry(
        30036,
        "Validity Period expired",
        "The message stayed queued longer than its ValidityPeriod and was not sent.",
        "Send again, with a longer ValidityPeriod or at a lower rate.",
        retryable=True,
    ),
    _entry(
        30500,
        "Twilio internal error",
        "Twilio hit an internal error while handling the message.",
        "Send again later; if it keeps failing, contact Twilio support with the message SID.",
        retryable=True,
    ),
    _entry(
        63001,
        "Channel could not authenticate the request",
        "The channel (for example WhatsApp) rejected the credentials Twilio used.",
        "Check the sender's channel configuration and credentials in the Twilio Console.",
        retryable=False,
    ),
    _entry(
        63002,
        "Channel could not find From address",
        "The channel does not know the From address.",
        "Check that the From address is registered and active on the channel.",
        retryable=False,
    ),
    _entry(
        63003,
        "Channel could not find To address",
        "The channel does not know the To address (for example, not a WhatsApp user).",
        "Check the recipient's address, or reach them on another channel.",
        retryable=False,
    ),
    _entry(
        63005,
        "Channel did not accept given content",
        "The channel refused the message content.",
        "Change the content (or use an approved template) to fit the channel's rules.",
        retryable=False,
    ),
    _entry(
        63006,
        "Could not format given content for the channel",
        "Twilio could not turn the content into a form this channel accepts.",
        "Change the content or media to a type the channel supports.",
        retryable=False,
    ),
    _entry(
        63007,
        "Twilio could not find a Channel with the specified From address",
        "No channel sender on this account matches the From address.",
        "Use a From address set up as a channel sender on this account.",
        retryable=False,
    ),
    _entry(
        63008,
        "Channel module misconfigured",
        "The channel is not configured correctly for this sender.",
        "Fix the channel's configuration for the sender in the Twilio Console.",
        retryable=False,
    ),
    _entry(
        63009,
        "Channel returned an error when executing the request",
        "The channel provider returned an error for this request.",
        "Read the provider's error in Twilio's error logs and fix what it names.",
        retryable=False,
    ),
    _entry(
        63010,
        "Channels - Twilio internal error",
        "Twilio hit an internal error while handing the message to the channel.",
        "Send again later; if it keeps failing, contact Twilio support with the message SID.",
        retryable=True,
    ),
    _entry(
        63012,
        "Channel returned an internal error",
        "The channel provider hit an internal error.",
        "Send again later.",
        retryable=True,
    ),
    _entry(
        63013,
        "Violates channel provider's policy",
        "The message breaks a policy of the channel provider.",
        "Review the provider's messaging policy and change the message before resending.",
        retryable=False,
    ),
    _entry(
        63014,
        "Blocked by a user action",
        "The recipient took an action that blocks this message (for example, blocked you).",
        "Do not resend; the recipient has to unblock the sender first.",
        retryable=False,
    ),
    # --- Create time: returned by POST /Messages (or in a REST error body), so the message
    # was never queued. Titles from https://www.twilio.com/docs/api/errors/<code>.
    _entry(
        20003,
        "Permission denied",
        "Authentication failed (HTTP 401): wrong Account SID or auth token, or test "
        "credentials used on live resources.",
        "Check the Account SID and auth token (or API key) msgwatch is using.",
        retryable=False,
    ),
    _entry(
        20007,
        "PageSize too large",
        "A list request asked for more than 1000 records per page.",
        "Request at most 1000 records per page.",
        retryable=False,
    ),
    _entry(
        20404,
        "Resource not found",
        "The requested resource does not exist on this account (HTTP 404).",
        "Check the SID and that it belongs to the account in use.",
        retryable=False,
    ),
    # https://www.twilio.com/docs/api/errors/20429: the request was never processed, so it
    # is always safe to retry, with backoff.
    _entry(
        20429,
        "Too many requests",
        "Too many concurrent REST requests (HTTP 429); this one was not processed.",
        "Retry with backoff, and make fewer requests at once.",
        retryable=True,
    ),
    _entry(
        21211,
        "Invalid 'To' phone number",
        "The To number is not a valid phone number.",
        "Enter the number in E.164 form, such as +14155550100.",
        retryable=False,
    ),
    _entry(
        21212,
        "Invalid 'From' number",
        "The From number is not a valid phone number, short code or sender ID.",
        "Use one of this account's numbers in E.164 form, a short code or a sender ID.",
        retryable=False,
    ),
    _entry(
        21408,
        "Permission to send to this region not enabled",
        "The account's Messaging Geo Permissions do not allow sending to this country.",
        "Enable the country in Messaging Geo Permissions in the Twilio Console.",
        retryable=False,
    ),
    _entry(
        21603,
        "'From' or 'MessagingServiceSid' is required",
        "The request named neither a From address nor a Messaging Service.",
        "Set a From address or a Messaging Service SID.",
        retryable=False,
    ),
    _entry(
        21604,
        "'To' is required",
        "The request had no To address.",
        "Set a To address.",
        retryable=False,
    ),
    _entry(
        21606,
        "'From' is not a valid message-capable Twilio number for this destination",
        "The From number is not one of this account's numbers that can message this destination.",
        "Send from a message-capable number on this account that can reach the destination.",
        retryable=False,
    ),
    _entry(
        21608,
        "Trial account: 'To' not verified",
        "Trial accounts can only send to verified numbers, and this To is not verified.",
        "Verify the To number in the Twilio Console, or upgrade the account.",
        retryable=False,
    ),
    # https://www.twilio.com/docs/api/errors/21610: the recipient opted out; such attempts
    # are not charged, and only the recipient can opt back in.
    _entry(
        21610,
        "Recipient unsubscribed",
        "The recipient replied STOP (or STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT) to this "
        "sender; the attempt was not charged.",
        "Do not resend; the recipient must reply START or YES to receive messages again.",
        retryable=False,
    ),
    # https://www.twilio.com/docs/api/errors/21611: the From's queue holds more than 10
    # hours of backlog; it drains, so a later attempt can succeed.
    _entry(
        21611,
        "'From' queue is full",
        "The From number's queue holds more than 10 hours of backlog.",
        "Send again later, once the queue has drained, or spread traffic over more senders.",
        retryable=True,
    ),
    _entry(
        21612,
        "Cannot route to 'To'",
        "This From cannot send messages to that To.",
        "Use a From that can reach the destination (country, carrier or number type).",
        retryable=False,
    ),
    _entry(
        21614,
        "'To' is not a valid mobile number",
        "The To number cannot receive SMS (not a mobile number).",
        "Use a mobile number for the recipient.",
        retryable=False,
    ),
    _entry(
        21617,
        "Body exceeds 1600 characters",
        "The concatenated message body is longer than 1600 characters.",
        "Shorten the body to at most 1600 characters, or split it into several messages.",
        retryable=False,
    ),
    _entry(
        21624,
        "Invalid ValidityPeriod",
        "ValidityPeriod must be a whole number of seconds from 1 to 36000.",
        "Set ValidityPeriod between 1 and 36000 seconds, or leave it out.",
        retryable=False,
    ),
    _entry(
        21635,
        "'To' is a landline",
        "The To number is a landline and cannot receive messages.",
        "Use a mobile number for the recipient.",
        retryable=False,
    ),
    _entry(
        35111,
        "SendAt is required",
        "ScheduleType is 'fixed' but no SendAt time was given.",
        "Give a SendAt time, or do not schedule the message.",
        retryable=False,
    ),
    _entry(
        35114,
        "SendAt is too soon",
        "SendAt must be at least 15 minutes (900 seconds) in the future.",
        "Pick a SendAt at least 15 minutes from now.",
        retryable=False,
    ),
    _entry(
        35115,
        "SendAt is too far ahead",
        "SendAt must be at most 35 days in the future.",
        "Pick a SendAt no more than 35 days from now.",
        retryable=False,
    ),
    _entry(
        35118,
        "MessagingServiceSid is required to schedule a message",
        "Scheduled messages must be sent through a Messaging Service.",
        "Set a Messaging Service SID (MG...) on the message.",
        retryable=False,
    ),
    _entry(
        35126,
        "Invalid ScheduleType",
        "ScheduleType must be 'fixed'.",
        "Set ScheduleType to 'fixed', or leave both ScheduleType and SendAt out.",
        retryable=False,
    ),
    # https://www.twilio.com/docs/api/errors/14107: more than 30 replies between the same two
    # numbers within 30 seconds; it clears once that window passes.
    _entry(
        14107,
        "SMS send rate limit exceeded",
        "More than 30 messages went between the same two numbers within 30 seconds.",
        "Wait at least 30 seconds, then send again.",
        retryable=True,
    ),
    _entry(
        63017,
        "Rate limit exceeded",
        "The account sent more messages per second than its limit allows.",
        "Send again later, at a lower rate.",
        retryable=True,
    ),
)

CATALOG: Mapping[int, ErrorInfo] = MappingProxyType({info.code: info for info in _ENTRIES})


def _unknown(code: int) -> ErrorInfo:
    return ErrorInfo(
        code=code,
        title=f"Twilio error {code}",
        explanation="Not in msgwatch's catalog; see the Twilio docs.",
        next_step=f"Read Twilio's page for this code: {docs_url(code)}",
        # Unknown means we cannot promise a retry helps; say so rather than guess.
        retryable=False,
        known=False,
    )


def _as_code(code: int | str) -> int | None:
    if isinstance(code, bool):  # bool is an int subclass; True is not error 1
        return None
    if isinstance(code, int):
        value = code
    elif isinstance(code, str):
        text = code.strip()
        if not text.isascii() or not text.isdigit() or len(text) > _MAX_CODE_DIGITS:
            return None
        value = int(text)
    else:
        return None
    if value <= 0 or value >= 10**_MAX_CODE_DIGITS:
        return None
    return value


def explain(code: int | str | None) -> ErrorInfo | None:
    """The catalog entry for `code`, an "unknown" entry for other numeric codes, else None.

    None, "" and anything that is not a positive number of at most six digits give None
    (0 is how some payloads say "no error"). Never raises.
    """
    if code is None or code == "":
        return None
    value = _as_code(code)
    if value is None:
        return None
    return CATALOG.get(value) or _unknown(value)
