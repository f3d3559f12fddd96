"""Deciding whether a webhook really comes from Twilio.

The signature covers the URL Twilio called, which behind a tunnel or proxy is not the URL
this server sees (the scheme, host and port are rewritten; aiohttp's `request.url` takes
its scheme from the socket). So the URL checked is the configured public URL's origin plus
the request's raw path and query, exactly as sent (twilio-notes §3, python#751/#715).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import urlsplit

from tui.domain.signature import (
    SIGNATURE_HEADER,
    SIGNATURE_SETTINGS_HEADER,
    Algorithm,
    UnsupportedAlgorithmError,
    is_valid,
    is_valid_json,
    parse_signature_settings,
)
from tui.store import SignatureVerdict

from .form import Webhook


class Verdict(NamedTuple):  # a tuple: one per request, a third of a dataclass's cost
    verdict: SignatureVerdict
    checked_url: str
    reason: str | None = None  # why it was rejected, said for a person

    @property
    def accepted(self) -> bool:
        return self.reason is None


@dataclass(frozen=True, slots=True)
class SignatureConfig:
    auth_token: str | None  # None only when validation is off
    public_url: str | None = None  # e.g. https://abc.ngrok.app
    shared_key: str | None = None  # for HMAC-SHA256 signing ("SharedKey" public beta)

    @property
    def validating(self) -> bool:
        return self.auth_token is not None


def checked_url(public_url: str | None, seen_url: str, raw_path: str) -> str:
    """The URL Twilio called: the public origin (or what this server saw) + the raw path.

    A public URL with a path (https://host/twilio) is for a proxy that strips that prefix:
    the prefix is put back in front of the raw path unless the path already carries it.
    """
    base = public_url if public_url else seen_url
    parts = urlsplit(base)
    origin = f"{parts.scheme}://{parts.netloc}"
    prefix = parts.path.rstrip("/") if public_url else ""
    if prefix and not raw_path.startswith(prefix + "/") and raw_path != prefix:
        return origin + prefix + raw_path
    return origin + raw_path


def verify(
    config: SignatureConfig,
    webhook: Webhook,
    headers: Mapping[str, str],
    url: str,
) -> Verdict:
    """The verdict for one request whose parameters are `webhook` and URL is `url`."""
    get = headers.get
    if not config.validating:
        return Verdict(SignatureVerdict.UNCHECKED, url)
    signature = get(SIGNATURE_HEADER)
    if not signature:
        return Verdict(SignatureVerdict.MISSING, url, f"no {SIGNATURE_HEADER} header")
    try:
        settings = parse_signature_settings(get(SIGNATURE_SETTINGS_HEADER))
    except UnsupportedAlgorithmError as exc:
        return Verdict(SignatureVerdict.INVALID, url, str(exc))
    algorithm = settings.algorithm if settings else Algorithm.HMAC_SHA1
    key = config.auth_token
    if algorithm is Algorithm.HMAC_SHA256 and config.shared_key:
        key = config.shared_key
    assert key is not None
    if webhook.is_json:
        ok = is_valid_json(url, webhook.raw_body, signature, key, algorithm)
    else:
        ok = is_valid(url, webhook.params, signature, key, algorithm)
    if ok:
        return Verdict(SignatureVerdict.VALID, url)
    return Verdict(
        SignatureVerdict.INVALID,
        url,
        f"{algorithm.value} signature does not match {url} (check --public-url and the token)",
    )
