"""msgwatch's configuration: the Twilio credentials, the other settings, and where each came from.

Owns resolving the settings once at start-up from the command line, the environment,
msgwatch's TOML file and the Twilio CLI's profiles; checking every value; and saying where
each one came from (`Config.describe`, for `--show-config` and the status bar). Pure Python
plus file and environment reading: no Textual, aiohttp or Twilio SDK, so it runs before
anything else starts and a bad value is one sentence, never a traceback.

Credentials: the first source found wins. A source that is there but incomplete (say
TWILIO_ACCOUNT_SID without a token or key) is an error, never a silent fall-through to the
next source, which would run against an account nobody meant.

1. ``--profile NAME`` (the ``profile`` argument): that Twilio CLI profile. An explicit
   choice beats the environment, as it does for the ``twilio`` command itself.
2. TWILIO_API_KEY + TWILIO_API_SECRET + TWILIO_ACCOUNT_SID (API key auth).
3. TWILIO_ACCOUNT_SID + TWILIO_AUTH_TOKEN.
4. The Twilio CLI's active profile (``~/.twilio-cli/config.json``, ``"activeProject"``).
5. msgwatch's config file: ``[twilio] account_sid`` + ``auth_token``, or + ``api_key`` +
   ``api_secret``.
6. Nothing: demo mode, against the built-in local Twilio.

Twilio signs webhooks with the account's Auth Token, never with an API key's secret, so a
source using an API key may also carry the Auth Token (TWILIO_AUTH_TOKEN, ``auth_token``);
it becomes `TwilioCredentials.signing_token`.

Every other setting, each on its own: command line > environment > config file > default.

==========================  ==========================  ==========================
setting (Config field)      environment                 ``[defaults]`` key
==========================  ==========================  ==========================
from_number                 MSGWATCH_FROM               from
messaging_service_sid       MSGWATCH_MESSAGING_...      messaging_service_sid
public_url                  MSGWATCH_PUBLIC_URL         public_url
api_base                    MSGWATCH_API_BASE           api_base
db_path                     MSGWATCH_DB                 db
host                        MSGWATCH_HOST               host
port                        MSGWATCH_PORT               port
stuck_after (seconds)       MSGWATCH_STUCK_AFTER        stuck_after
reconcile_every (seconds)   MSGWATCH_RECONCILE_EVERY    reconcile_every
poll_budget_per_minute      MSGWATCH_POLL_BUDGET_...    poll_budget_per_minute
==========================  ==========================  ==========================

Command-line values come in as ``overrides`` keyed by Config field name ("from" and "db"
are accepted too); None means "not given". The config file is ``config_path``, else
MSGWATCH_CONFIG, else ``config.toml`` in platformdirs' user config directory; a file named
explicitly must exist, the default one may not. An empty environment variable counts as
unset, as a shell's ``export X=`` usually means "off".

Secrets (auth tokens, API secrets) never appear in repr(), str(), describe() or a
ConfigError: where one must be referred to it is masked (`mask_secret`).
"""

from __future__ import annotations

import datetime
import difflib
import json
import math
import os
import re
import tomllib
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Final, TypeVar
from urllib.parse import SplitResult, urlsplit

from platformdirs import user_config_dir, user_data_dir

from tui.domain.addresses import AddressError, parse_from
from tui.domain.masking import mask_secret, short_sid

APP_NAME: Final = "msgwatch"
DEFAULT_HOST: Final = "127.0.0.1"  # loopback: the receiver is reached through a tunnel
DEFAULT_PORT: Final = 1337  # the same default as `msgwatch serve`
# Ten minutes in flight most likely means a lost callback, not a slow carrier: by default
# Twilio retries a status callback once, on connect failure only, and a failed one is simply
# lost (twilio-notes §3 "Retries"), so a message still "sent" that long needs a fetch.
DEFAULT_STUCK_AFTER: Final = 600.0
DEFAULT_RECONCILE_EVERY: Final = 60.0  # how often in-flight messages are checked for that
# One fetch a second, a starting point rather than a measured limit: Twilio limits an
# account's concurrent REST requests (429 / 20429, twilio-notes §5), and sends share them.
DEFAULT_POLL_BUDGET_PER_MINUTE: Final = 60

ENV_CONFIG: Final = "MSGWATCH_CONFIG"
ENV_ACCOUNT_SID: Final = "TWILIO_ACCOUNT_SID"
ENV_AUTH_TOKEN: Final = "TWILIO_AUTH_TOKEN"  # noqa: S105 (a variable name, not a token)
ENV_API_KEY: Final = "TWILIO_API_KEY"
ENV_API_SECRET: Final = "TWILIO_API_SECRET"  # noqa: S105 (a variable name)

_SID_HEX = 32  # every Twilio SID is a two-letter prefix and 32 hex digits
_SHOWN_MAX = 60  # the longest value quoted whole in an error


def default_config_path() -> Path:
    """Where msgwatch looks for its config file when none is named."""
    return Path(user_config_dir(APP_NAME, appauthor=False)) / "config.toml"


def default_db_path() -> Path:
    """The database when none is configured (the same place `msgwatch serve` uses)."""
    return Path(user_data_dir(APP_NAME, appauthor=False)) / "msgwatch.db"


def twilio_cli_config_path(home: Path) -> Path:
    """The Twilio CLI's own settings file, holding its profiles."""
    return home / ".twilio-cli" / "config.json"


class ConfigError(ValueError):
    """A setting msgwatch cannot use, in one sentence that names where the value came from."""

    def __init__(self, message: str) -> None:
        # Values come from files and the environment: a newline or an escape sequence in one
        # must not break the one-line message or reach the terminal as a control code.
        super().__init__(_one_line(message))


def _one_line(text: str) -> str:
    return "".join(
        f"\\u{ord(c):04x}" if unicodedata.category(c) in ("Cc", "Cf") else c for c in text
    )


# -- credentials ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TwilioCredentials:
    """How to authenticate to Twilio's REST API, and where that came from."""

    account_sid: str
    username: str  # the account SID, or an API key SID (SK...)
    password: str = field(repr=False)  # the auth token or API key secret
    source: str  # for people: "environment (...)", "Twilio CLI profile 'dev'", a file path
    # The account's Auth Token when the source has it: Twilio signs webhooks with it, and an
    # API key's secret cannot check them. None means signatures cannot be validated.
    signing_token: str | None = field(default=None, repr=False)

    @property
    def uses_api_key(self) -> bool:
        return self.username != self.account_sid

    @property
    def masked(self) -> str:
        """`AC12…cdef / ********abcd`: safe to show on screen."""
        return f"{short_sid(self.username)} / {mask_secret(self.password)}"


# -- the configuration ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Config:
    """Everything msgwatch was configured with. `credentials` None means demo mode."""

    credentials: TwilioCredentials | None
    from_number: str | None
    messaging_service_sid: str | None
    public_url: str | None
    api_base: str | None
    db_path: Path
    host: str
    port: int
    stuck_after: float
    reconcile_every: float
    poll_budget_per_minute: int
    # Where each setting came from, by field name ("--port", "MSGWATCH_PORT", a file and
    # key, or "default"): for describe(), not part of the configuration's identity.
    sources: Mapping[str, str] = field(
        default_factory=lambda: MappingProxyType({}), compare=False, repr=False
    )
    config_file: Path | None = None  # the TOML file that was read, if any

    @property
    def demo(self) -> bool:
        return self.credentials is None

    def describe(self) -> list[str]:
        """Every setting and where it came from, one per line, secrets masked."""
        rows: list[tuple[str, str, str]] = []
        creds = self.credentials
        if creds is None:
            rows.append(("mode", "demo: no credentials found, using the built-in local Twilio", ""))
        else:
            where = f"Twilio API at {self.api_base}" if self.api_base else "Twilio"
            rows.append(("mode", f"live: {where}", ""))
            rows.append(("credentials", creds.masked, creds.source))
            if creds.uses_api_key:
                rows.append(("account", short_sid(creds.account_sid), creds.source))
            signing = (
                f"auth token {mask_secret(creds.signing_token)}"
                if creds.signing_token
                else "no auth token: webhook signatures cannot be checked"
            )
            rows.append(("webhook signing", signing, creds.source if creds.signing_token else ""))
        rows.append(("config file", str(self.config_file) if self.config_file else "none", ""))
        for spec in _SETTINGS:
            value = getattr(self, spec.name)
            shown = "not set" if value is None else str(value)
            rows.append((spec.label, shown, self.sources.get(spec.name, "")))
        width = max(len(label) for label, _, _ in rows)
        return [
            f"{label:<{width}}  {value}" + (f"  ({source})" if source else "")
            for label, value, source in rows
        ]


# -- reading values ------------------------------------------------------------------------


def _quote(value: str) -> str:
    shown = value if len(value) <= _SHOWN_MAX else value[: _SHOWN_MAX - 1] + "\u2026"
    return f"'{shown}'"


def _kind(value: object) -> str:
    """What a TOML value is, for "expected X, not Y" messages."""
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, datetime.date | datetime.time):
        return "a date or time"
    return type(value).__name__  # only reachable from a caller's override, not from a file


def _text(raw: object, source: str, what: str) -> str:
    if not isinstance(raw, str):
        raise ConfigError(f"{source}: expected {what} in quotes, not {_kind(raw)}.")
    text = raw.strip()
    if not text:
        raise ConfigError(f"{source}: the value is empty; give {what} or leave it out.")
    return text


def _sid(raw: object, source: str, prefix: str, what: str) -> str:
    text = _text(raw, source, f"{what} ({prefix}...)")
    if re.fullmatch(prefix + f"[0-9a-fA-F]{{{_SID_HEX}}}", text):
        return text
    # A value in a SID's place may be a secret pasted into the wrong variable (an API key
    # and its secret swapped). Auth tokens and API secrets are 32 characters (and tokens
    # lowercase hex), so the value is quoted only when it starts with the prefix and is not
    # 32 characters long; otherwise it is masked like a secret.
    if text.startswith(prefix) and len(text) != _SID_HEX and text.isalnum():
        shown = _quote(text)
    else:
        shown = f"the value ({mask_secret(text)}, {len(text)} characters)"
    raise ConfigError(
        f"{source}: {shown} is not {what}: those are '{prefix}' followed by {_SID_HEX} hex digits."
    )


def _secret(raw: object, source: str, what: str) -> str:
    if not isinstance(raw, str):
        raise ConfigError(f"{source}: expected the {what} in quotes, not {_kind(raw)}.")
    text = raw.strip()  # whitespace around a secret is a copy-paste accident, never part of it
    if not text:
        raise ConfigError(f"{source}: the {what} is empty.")
    if any(c.isspace() or not c.isprintable() for c in text):
        raise ConfigError(
            f"{source}: the {what} ({mask_secret(text)}) has spaces or control characters "
            "in it; copy it again."
        )
    return text


def _from_number(raw: object, source: str) -> str:
    text = _text(raw, source, "a phone number, short code or sender ID")
    try:
        # Not strict: numbers that are possible but unassigned (+1 555 ..., used by the
        # local Twilio and Twilio's own examples) are allowed; lengths and country codes are
        # still checked, and Twilio itself refuses a From the account does not own.
        return parse_from(text, strict=False).normalized
    except AddressError as exc:
        raise ConfigError(f"{source}: {exc.message}") from None


def _messaging_service_sid(raw: object, source: str) -> str:
    return _sid(raw, source, "MG", "a Messaging Service SID")


def _url(raw: object, source: str, example: str) -> str:
    text = _text(raw, source, f"a URL such as {example}")
    bad = f"{source}: {_quote(text)} is not an http(s) URL (e.g. {example})."
    if any(c.isspace() for c in text):
        raise ConfigError(bad)
    try:
        parts: SplitResult = urlsplit(text)
        _ = parts.port  # reading the port is what raises for a bad one ("host:99999")
    except ValueError:
        raise ConfigError(bad) from None
    if parts.username is not None or parts.password is not None:
        # Not quoted: the part before '@' may be a password.
        raise ConfigError(
            f"{source}: the URL has a user name or password in it (before '@'), which "
            "msgwatch does not support; give the URL without it."
        )
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ConfigError(bad)
    if parts.query or parts.fragment or text.endswith(("?", "#")):
        # Paths are appended to it (/message-status, /2010-04-01/...), which a query or
        # fragment would swallow.
        raise ConfigError(f"{source}: {_quote(text)} should be a base URL, without '?' or '#'.")
    return text.rstrip("/")


def _public_url(raw: object, source: str) -> str:
    return _url(raw, source, "https://abc.ngrok.app")


def _api_base(raw: object, source: str) -> str:
    return _url(raw, source, "http://127.0.0.1:8765")


def _host(raw: object, source: str) -> str:
    text = _text(raw, source, "a host name or IP address")
    # Names, IPv4, IPv6 (with an optional %zone); anything else (a URL, a port) is a mistake.
    if not re.fullmatch(r"[A-Za-z0-9._\-:%\[\]]+", text):
        raise ConfigError(
            f"{source}: {_quote(text)} is not a host name or IP address (e.g. 127.0.0.1)."
        )
    return text


def _whole_number(raw: object, source: str, wrong: str) -> int:
    if isinstance(raw, bool):  # True is an int in Python; in a config file it is a mistake
        raise ConfigError(f"{source}: expected a whole number, not true/false.")
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str):
        text = raw.strip()
        # The length cap keeps int() away from its 4300-digit limit.
        if re.fullmatch(r"[+-]?[0-9]{1,20}", text):
            return int(text)
        raise ConfigError(f"{source}: {_quote(text)} {wrong}.")
    raise ConfigError(f"{source}: expected a whole number, not {_kind(raw)}.")


def _shown_number(n: float) -> str:
    # TOML integers have no size limit in tomllib, and str() of a huge int even raises.
    return str(n) if abs(n) < 10**20 else "that number"


def _port(raw: object, source: str) -> int:
    wrong = "is not a port number (0-65535)"
    port = _whole_number(raw, source, wrong)
    if not 0 <= port <= 65535:  # 0: any free port, which tests use
        raise ConfigError(f"{source}: {_shown_number(port)} {wrong}.")
    return port


def _poll_budget(raw: object, source: str) -> int:
    wrong = "is not a number of fetches per minute (a whole number, at least 1)"
    budget = _whole_number(raw, source, wrong)
    if budget < 1:
        raise ConfigError(f"{source}: {_shown_number(budget)} {wrong}.")
    return budget


def _seconds(raw: object, source: str) -> float:
    wrong = "is not a number of seconds greater than 0"
    if isinstance(raw, bool):
        raise ConfigError(f"{source}: expected a number of seconds, not true/false.")
    if isinstance(raw, int | float):
        seconds = float(raw) if abs(raw) < 10**300 else math.inf
        shown = _shown_number(raw)
    elif isinstance(raw, str):
        shown = _quote(raw.strip())
        try:
            seconds = float(raw)
        except ValueError:
            raise ConfigError(f"{source}: {shown} {wrong}.") from None
    else:
        raise ConfigError(f"{source}: expected a number of seconds, not {_kind(raw)}.")
    if not (math.isfinite(seconds) and seconds > 0):
        raise ConfigError(f"{source}: {shown} {wrong}.")
    return seconds


def _expand_home(text: str, home: Path) -> Path:
    """`~` and `~/...` against `home` (not the process's HOME: tests pass their own)."""
    if text == "~":
        return home
    if text.startswith("~/"):
        return home / text[2:]
    return Path(text)


# -- the settings table --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Setting:
    name: str  # the Config field
    env: str
    key: str  # in [defaults]
    flag: str  # how the command line spells it, for messages
    label: str  # for describe()


_SETTINGS: Final = (
    _Setting("from_number", "MSGWATCH_FROM", "from", "--from", "from"),
    _Setting(
        "messaging_service_sid",
        "MSGWATCH_MESSAGING_SERVICE_SID",
        "messaging_service_sid",
        "--messaging-service-sid",
        "messaging service",
    ),
    _Setting("public_url", "MSGWATCH_PUBLIC_URL", "public_url", "--public-url", "public URL"),
    _Setting("api_base", "MSGWATCH_API_BASE", "api_base", "--api-base", "API base"),
    _Setting("db_path", "MSGWATCH_DB", "db", "--db", "database"),
    _Setting("host", "MSGWATCH_HOST", "host", "--host", "receiver host"),
    _Setting("port", "MSGWATCH_PORT", "port", "--port", "receiver port"),
    _Setting(
        "stuck_after", "MSGWATCH_STUCK_AFTER", "stuck_after", "--stuck-after", "stuck after (s)"
    ),
    _Setting(
        "reconcile_every",
        "MSGWATCH_RECONCILE_EVERY",
        "reconcile_every",
        "--reconcile-every",
        "reconcile every (s)",
    ),
    _Setting(
        "poll_budget_per_minute",
        "MSGWATCH_POLL_BUDGET_PER_MINUTE",
        "poll_budget_per_minute",
        "--poll-budget-per-minute",
        "poll budget (/min)",
    ),
)
_BY_NAME: Final = {spec.name: spec for spec in _SETTINGS}
_OVERRIDE_ALIASES: Final = {"from": "from_number", "db": "db_path"}
_TWILIO_KEYS: Final = ("account_sid", "auth_token", "api_key", "api_secret")
_DEFAULTS_KEYS: Final = tuple(spec.key for spec in _SETTINGS)
_TABLES: Final = ("twilio", "defaults")


# -- msgwatch's TOML file ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _TomlFile:
    path: Path
    twilio: Mapping[str, object]
    defaults: Mapping[str, object]


def _read_text(path: Path, what: str, *, required: bool) -> str | None:
    """The file's text; None if it does not exist and need not."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        if required:
            raise ConfigError(f"{path}: the {what} does not exist.") from None
        return None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, not the {what}.") from None
    except OSError as exc:
        raise ConfigError(f"{path}: the {what} cannot be read ({exc.strerror}).") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ConfigError(f"{path}: the {what} is not UTF-8 text (line {line}).") from None


def _unknown(where: str, key: str, known: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(key, known, n=1)
    hint = f"did you mean '{close[0]}'?" if close else f"known: {', '.join(known)}."
    return f"{where}: unknown setting {_quote(key)}; {hint}"


def _load_toml(path: Path, *, required: bool) -> _TomlFile | None:
    text = _read_text(path, "config file", required=required)
    if text is None:
        return None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # The message says where ("(at line 3, column 7)") and quotes at most a key or one
        # character, never a value, so it cannot leak a token.
        raise ConfigError(f"{path}: not valid TOML: {exc}.") from None
    except ValueError:  # tomllib lets int()'s digit limit through as a bare ValueError
        raise ConfigError(f"{path}: not valid TOML: a number in it is too long.") from None
    tables: dict[str, Mapping[str, object]] = {}
    for key, value in doc.items():
        if key in _DEFAULTS_KEYS:
            raise ConfigError(f"{path}: {_quote(key)} belongs under [defaults].")
        if key in _TWILIO_KEYS:
            raise ConfigError(f"{path}: {_quote(key)} belongs under [twilio].")
        if key not in _TABLES:
            raise ConfigError(_unknown(str(path), key, _TABLES))
        if not isinstance(value, dict):
            raise ConfigError(f"{path}: [{key}] should be a table, not {_kind(value)}.")
        known = _TWILIO_KEYS if key == "twilio" else _DEFAULTS_KEYS
        for inner in value:
            if inner not in known:
                raise ConfigError(_unknown(f"{path} [{key}]", inner, known))
        tables[key] = value
    return _TomlFile(path, tables.get("twilio", {}), tables.get("defaults", {}))


def _toml_credentials(toml: _TomlFile) -> TwilioCredentials | None:
    table = toml.twilio
    if not table:
        return None
    where = f"{toml.path} [twilio]"
    have = {key for key in _TWILIO_KEYS if key in table}
    key_auth = {"api_key", "api_secret"} & have
    if key_auth and key_auth != {"api_key", "api_secret"}:
        (given,) = key_auth
        (missing,) = {"api_key", "api_secret"} - key_auth
        raise ConfigError(f"{where}: {given} is set without {missing}; API key auth needs both.")
    if "account_sid" not in have:
        raise ConfigError(
            f"{where}: account_sid is missing; it is needed with {' and '.join(sorted(have))}."
        )
    account_sid = _sid(table["account_sid"], f"{where} account_sid", "AC", "an Account SID")
    token = (
        _secret(table["auth_token"], f"{where} auth_token", "auth token")
        if "auth_token" in have
        else None
    )
    if key_auth:
        return TwilioCredentials(
            account_sid=account_sid,
            username=_sid(table["api_key"], f"{where} api_key", "SK", "an API key SID"),
            password=_secret(table["api_secret"], f"{where} api_secret", "API secret"),
            source=str(toml.path),
            signing_token=token,
        )
    if token is None:
        raise ConfigError(
            f"{where}: account_sid is set without auth_token or api_key + api_secret; "
            "add one of them, or remove [twilio] for demo mode."
        )
    return TwilioCredentials(account_sid, account_sid, token, str(toml.path), signing_token=token)


# -- the environment -----------------------------------------------------------------------


def _env(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name)
    return value if value is not None and value.strip() else None


def _env_credentials(env: Mapping[str, str]) -> TwilioCredentials | None:
    sid, token = _env(env, ENV_ACCOUNT_SID), _env(env, ENV_AUTH_TOKEN)
    key, secret = _env(env, ENV_API_KEY), _env(env, ENV_API_SECRET)
    if key is not None or secret is not None:
        if key is None or secret is None or sid is None:
            named = {ENV_API_KEY: key, ENV_API_SECRET: secret, ENV_ACCOUNT_SID: sid}
            given = [name for name, value in named.items() if value is not None]
            missing = [name for name, value in named.items() if value is None]
            raise ConfigError(
                f"{' and '.join(given)} {'is' if len(given) == 1 else 'are'} set without "
                f"{' and '.join(missing)}; API key auth needs {ENV_API_KEY}, {ENV_API_SECRET} "
                f"and {ENV_ACCOUNT_SID}."
            )
        return TwilioCredentials(
            account_sid=_sid(sid, ENV_ACCOUNT_SID, "AC", "an Account SID"),
            username=_sid(key, ENV_API_KEY, "SK", "an API key SID"),
            password=_secret(secret, ENV_API_SECRET, "API secret"),
            source=f"environment ({ENV_API_KEY} + {ENV_API_SECRET} + {ENV_ACCOUNT_SID})",
            signing_token=None if token is None else _secret(token, ENV_AUTH_TOKEN, "auth token"),
        )
    if sid is None and token is None:
        return None
    if sid is None:
        raise ConfigError(
            f"{ENV_AUTH_TOKEN} is set without {ENV_ACCOUNT_SID}; set both, "
            "or unset it for demo mode."
        )
    if token is None:
        raise ConfigError(
            f"{ENV_ACCOUNT_SID} is set without {ENV_AUTH_TOKEN} or {ENV_API_KEY} + "
            f"{ENV_API_SECRET}; set one of them, or unset it for demo mode."
        )
    account_sid = _sid(sid, ENV_ACCOUNT_SID, "AC", "an Account SID")
    password = _secret(token, ENV_AUTH_TOKEN, "auth token")
    return TwilioCredentials(
        account_sid=account_sid,
        username=account_sid,
        password=password,
        source=f"environment ({ENV_ACCOUNT_SID} + {ENV_AUTH_TOKEN})",
        signing_token=password,
    )


# -- the Twilio CLI's profiles -------------------------------------------------------------


def _read_cli_profiles(path: Path) -> tuple[dict[str, object], str | None] | None:
    """(profile name -> entry, active profile name) from the Twilio CLI's file, or None if
    there is no file.

    Newer twilio-cli versions write ``"profiles": {NAME: {accountSid, apiKey, apiSecret}}``;
    older ones wrote ``"projects": [{id, accountSid, region}]`` and kept the key in the
    system keychain. Both are read; a name in both means the newer entry, as in twilio-cli.
    """
    text = _read_text(path, "Twilio CLI config", required=False)
    if text is None:
        return None
    try:
        doc: object = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{path}: not valid JSON at line {exc.lineno}, column {exc.colno} ({exc.msg})."
        ) from None
    if not isinstance(doc, dict):
        raise ConfigError(f"{path}: expected a JSON object at the top.")
    profiles: dict[str, object] = {}
    for section in ("projects", "profiles"):  # the newer section last: it wins a shared name
        entries = doc.get(section)
        if entries is None:
            continue
        if isinstance(entries, list):
            named = [
                (entry["id"], entry)
                for entry in entries
                if isinstance(entry, dict) and isinstance(entry.get("id"), str)
            ]
        elif isinstance(entries, dict):
            named = list(entries.items())
        else:
            raise ConfigError(f'{path}: "{section}" should be an object, not {_kind(entries)}.')
        # twilio-cli trims profile names when it reads them; so does msgwatch.
        profiles.update((str(name).strip(), entry) for name, entry in named)
    active = doc.get("activeProject")
    return profiles, active.strip() if isinstance(active, str) and active.strip() else None


def _profile_listing(profiles: Mapping[str, object]) -> str:
    if not profiles:
        return "it has no profiles (`twilio login` adds one)"
    return "the profiles there are " + ", ".join(_quote(name) for name in sorted(profiles))


def _cli_credentials(home: Path, explicit: str | None) -> TwilioCredentials | None:
    path = twilio_cli_config_path(home)
    loaded = _read_cli_profiles(path)
    if loaded is None:
        if explicit is not None:
            raise ConfigError(
                f"--profile {_quote(explicit)}: there is no Twilio CLI config at {path} "
                "(`twilio login` creates one)."
            )
        return None
    profiles, active = loaded
    if explicit is not None:
        if explicit not in profiles:
            raise ConfigError(
                f"Twilio CLI profile {_quote(explicit)} does not exist in {path}; "
                f"{_profile_listing(profiles)}."
            )
        name = explicit
    elif active is None:
        return None
    elif active not in profiles:
        raise ConfigError(
            f"{path}: the active Twilio CLI profile {_quote(active)} does not exist; "
            f"{_profile_listing(profiles)} (`twilio profiles:use NAME` picks one)."
        )
    else:
        name = active
    return _profile_credentials(name, profiles[name], path)


def _profile_credentials(name: str, entry: object, path: Path) -> TwilioCredentials:
    label = f"Twilio CLI profile {_quote(name)}"
    where = f"{label} ({path})"
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: expected an object, not {_kind(entry)}.")
    if "accountSid" not in entry:
        raise ConfigError(f"{where}: has no accountSid.")
    account_sid = _sid(entry["accountSid"], f"{where} accountSid", "AC", "an Account SID")
    if "apiKey" not in entry or "apiSecret" not in entry:
        raise ConfigError(
            f"{where}: has no API key in the file (older twilio-cli versions keep it in the "
            "system keychain, which msgwatch does not read); run `twilio profiles:create` "
            f"again, or set {ENV_ACCOUNT_SID} + {ENV_API_KEY} + {ENV_API_SECRET}."
        )
    api_key = entry["apiKey"]
    # The CLI stores auth-token logins as apiKey = the account SID, apiSecret = the token.
    if api_key == account_sid:
        username = account_sid
        password = _secret(entry["apiSecret"], f"{where} apiSecret", "auth token")
    else:
        username = _sid(api_key, f"{where} apiKey", "SK", "an API key SID")
        password = _secret(entry["apiSecret"], f"{where} apiSecret", "API secret")
    return TwilioCredentials(
        account_sid=account_sid,
        username=username,
        password=password,
        source=label,
        signing_token=password if username == account_sid else None,
    )


# -- putting it together -------------------------------------------------------------------

T = TypeVar("T")


def _overrides(overrides: Mapping[str, object] | None) -> dict[str, object]:
    given: dict[str, object] = {}
    for key, value in (overrides or {}).items():
        name = _OVERRIDE_ALIASES.get(key, key)
        if name not in _BY_NAME:
            # A programming error in the caller, not a user's mistake: fail loudly.
            raise TypeError(f"load_config: unknown override {key!r}")
        if value is not None:
            given[name] = value
    return given


@dataclass(slots=True)
class _Resolver:
    """Picks each setting from the highest-precedence source that has it."""

    given: Mapping[str, object]  # command line
    env: Mapping[str, str]
    toml: _TomlFile | None
    sources: dict[str, str] = field(default_factory=dict)

    def get(self, name: str, parse: Callable[[object, str], T], default: T) -> T:
        spec = _BY_NAME[name]
        raw: object
        if name in self.given:
            raw, source = self.given[name], spec.flag
        elif (from_env := _env(self.env, spec.env)) is not None:
            raw, source = from_env, spec.env
        elif self.toml is not None and spec.key in self.toml.defaults:
            raw, source = self.toml.defaults[spec.key], self.file_source(spec)
        else:
            self.sources[name] = "default"
            return default
        self.sources[name] = source
        return parse(raw, source)

    def file_source(self, spec: _Setting) -> str:
        return f"{self.toml.path if self.toml else 'config file'} [defaults] {spec.key}"

    def db_path(self, raw: object, source: str, home: Path) -> Path:
        path = raw if isinstance(raw, Path) else _expand_home(_text(raw, source, "a path"), home)
        if "\x00" in str(path):  # the OS would refuse it later, with a less helpful error
            raise ConfigError(f"{source}: a file path cannot contain a NUL character.")
        if self.toml is not None and source == self.file_source(_BY_NAME["db_path"]):
            # A relative path in the file means "next to the file", wherever msgwatch runs.
            path = self.toml.path.parent / path
        if path.is_dir():
            raise ConfigError(f"{source}: {path} is a directory; give the database file's path.")
        return path


def load_config(
    *,
    env: Mapping[str, str] | None = None,
    profile: str | None = None,
    config_path: Path | None = None,
    home: Path | None = None,
    overrides: Mapping[str, object] | None = None,
) -> Config:
    """The configuration, from `overrides` (command-line values; None means not given),
    `env` (default os.environ), the config file, and the Twilio CLI's profiles under `home`
    (default the user's home). Raises ConfigError, one sentence naming the source, for any
    value it cannot use."""
    env = os.environ if env is None else env
    home = Path.home() if home is None else home
    given = _overrides(overrides)

    named = config_path
    if named is None and (from_env := _env(env, ENV_CONFIG)) is not None:
        named = _expand_home(from_env.strip(), home)
    toml = _load_toml(named or default_config_path(), required=named is not None)

    if profile is not None and not profile.strip():
        raise ConfigError("--profile: give the name of a Twilio CLI profile.")
    if profile is not None:
        credentials = _cli_credentials(home, profile.strip())
    else:
        credentials = (
            _env_credentials(env)
            or _cli_credentials(home, None)
            or (_toml_credentials(toml) if toml is not None else None)
        )

    pick = _Resolver(given, env, toml)
    return Config(
        credentials=credentials,
        from_number=pick.get("from_number", _from_number, None),
        messaging_service_sid=pick.get("messaging_service_sid", _messaging_service_sid, None),
        public_url=pick.get("public_url", _public_url, None),
        api_base=pick.get("api_base", _api_base, None),
        db_path=pick.get(
            "db_path", lambda raw, source: pick.db_path(raw, source, home), default_db_path()
        ),
        host=pick.get("host", _host, DEFAULT_HOST),
        port=pick.get("port", _port, DEFAULT_PORT),
        stuck_after=pick.get("stuck_after", _seconds, DEFAULT_STUCK_AFTER),
        reconcile_every=pick.get("reconcile_every", _seconds, DEFAULT_RECONCILE_EVERY),
        poll_budget_per_minute=pick.get(
            "poll_budget_per_minute", _poll_budget, DEFAULT_POLL_BUDGET_PER_MINUTE
        ),
        sources=MappingProxyType(pick.sources),
        config_file=toml.path if toml is not None else None,
    )
