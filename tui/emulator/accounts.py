"""Who may call the emulator: an account SID + auth token, API keys (SK + secret) of that
account, and optionally a pair of test credentials (magic numbers, no callbacks)."""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
from dataclasses import dataclass, field

from .model import ApiError


def _random_sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


@dataclass(frozen=True, slots=True)
class Credentials:
    account_sid: str
    auth_token: str
    api_keys: dict[str, str] = field(default_factory=dict)  # SK... -> secret
    test_account_sid: str | None = None
    test_auth_token: str | None = None

    @classmethod
    def generate(cls) -> Credentials:
        """Fresh random credentials: an emulator started for a demo shares no secret with
        anything real."""
        return cls(
            account_sid=_random_sid("AC"),
            auth_token=secrets.token_hex(16),
            api_keys={_random_sid("SK"): secrets.token_urlsafe(24)},
            test_account_sid=_random_sid("AC"),
            test_auth_token=secrets.token_hex(16),
        )

    def signing_key(self, account_sid: str) -> str:
        """The auth token callbacks for `account_sid` are signed with."""
        if account_sid == self.test_account_sid and self.test_auth_token:
            return self.test_auth_token
        return self.auth_token


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8", "replace"), b.encode("utf-8", "replace"))


def _basic(header: str | None) -> tuple[str, str] | None:
    """(user, secret) from an `Authorization: Basic ...` header, or None."""
    if not header:
        return None
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, secret = decoded.partition(":")
    return (user, secret) if sep else None


def authenticate(credentials: Credentials, header: str | None, path_account: str) -> bool:
    """Check HTTP Basic auth for a request on `/Accounts/{path_account}/...`.

    Returns True for the test credentials. Anything else that does not match is Twilio's
    401 with code 20003, including a valid key used on another account's path.
    """
    denied = ApiError(401, 20003, "Authenticate")
    credentials_pair = _basic(header)
    if credentials_pair is None:
        raise denied
    user, secret = credentials_pair
    c = credentials
    if user == c.account_sid and _same(secret, c.auth_token) and path_account == c.account_sid:
        return False
    if user in c.api_keys and _same(secret, c.api_keys[user]) and path_account == c.account_sid:
        return False
    if (
        c.test_account_sid
        and c.test_auth_token
        and user == c.test_account_sid
        and _same(secret, c.test_auth_token)
        and path_account == c.test_account_sid
    ):
        return True
    raise denied
