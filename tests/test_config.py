"""tui.config: where credentials and settings come from, what wins, and what is refused.

Every test runs against its own temporary home, config file and environment mapping: the
real ~/.twilio-cli, the real user config directory and os.environ are never read.
"""

from __future__ import annotations

import itertools
import json
import re
import string
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tui import config as config_module
from tui.config import (
    DEFAULT_HOST,
    DEFAULT_POLL_BUDGET_PER_MINUTE,
    DEFAULT_PORT,
    DEFAULT_RECONCILE_EVERY,
    DEFAULT_STUCK_AFTER,
    Config,
    ConfigError,
    TwilioCredentials,
    load_config,
)
from tui.domain.masking import mask_secret

ACCOUNT = "AC" + "0123456789abcdef" * 2
OTHER_ACCOUNT = "AC" + "fedcba9876543210" * 2
KEY = "SK" + "00112233445566778899aabbccddeeff"
MG = "MG" + "a1" * 16
TOKEN = "f00dfeed" * 3 + "5ec7e70c"  # 32 hex digits, like a real auth token
SECRET = "Zq8vN3kLp0Xw7Rt2Yh5Jm9Bc4Df6Gs1A"  # 32 alphanumerics, like a real API secret
CLI_SECRET = "Pr0f1leSecretPr0f1leSecret0wXyZ9"
FILE_TOKEN = "c0ffee00" * 3 + "f11e7043"

AUTH_TOKEN_ENV = {"TWILIO_ACCOUNT_SID": ACCOUNT, "TWILIO_AUTH_TOKEN": TOKEN}
API_KEY_ENV = {"TWILIO_ACCOUNT_SID": ACCOUNT, "TWILIO_API_KEY": KEY, "TWILIO_API_SECRET": SECRET}


@contextmanager
def isolated(root: Path) -> Iterator[None]:
    """The default config file and database inside `root` instead of the user's dirs."""
    with (
        mock.patch.object(config_module, "default_config_path", lambda: root / "default.toml"),
        mock.patch.object(config_module, "default_db_path", lambda: root / "data" / "msgwatch.db"),
    ):
        yield


def load(root: Path, **kwargs: Any) -> Config:
    """load_config with an empty environment and a home under `root` unless given."""
    kwargs.setdefault("env", {})
    kwargs.setdefault("home", root / "home")
    with isolated(root):
        return load_config(**kwargs)


def error(root: Path, **kwargs: Any) -> str:
    """The message of the ConfigError that load_config raises."""
    with pytest.raises(ConfigError) as info:
        load(root, **kwargs)
    message = str(info.value)
    assert "\n" not in message and message.endswith((".", "?")), message
    return message


def write_cli(root: Path, doc: object) -> Path:
    path = root / "home" / ".twilio-cli" / "config.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def write_toml(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def toml_creds(root: Path, account: str = ACCOUNT, token: str = FILE_TOKEN) -> Path:
    text = f'[twilio]\naccount_sid = "{account}"\nauth_token = "{token}"\n'
    return write_toml(root / "c.toml", text)


def cli_doc(**profiles: Mapping[str, str | None]) -> dict[str, object]:
    return {"profiles": profiles, "activeProject": next(iter(profiles), None)}


def profile(
    account: str = ACCOUNT, key: str = KEY, secret: str = CLI_SECRET
) -> dict[str, str | None]:
    return {"accountSid": account, "apiKey": key, "apiSecret": secret, "region": None}


# -- each credential source ----------------------------------------------------------------


def test_demo_mode_when_nothing_is_set(tmp_path: Path) -> None:
    config = load(tmp_path)
    assert config.credentials is None and config.demo
    assert config.db_path == tmp_path / "data" / "msgwatch.db"
    assert (config.host, config.port) == (DEFAULT_HOST, DEFAULT_PORT)
    assert config.stuck_after == DEFAULT_STUCK_AFTER
    assert config.reconcile_every == DEFAULT_RECONCILE_EVERY
    assert config.poll_budget_per_minute == DEFAULT_POLL_BUDGET_PER_MINUTE
    assert config.from_number is config.public_url is config.api_base is None
    assert config.config_file is None
    assert set(config.sources.values()) == {"default"}


def test_api_key_from_environment(tmp_path: Path) -> None:
    creds = load(tmp_path, env=API_KEY_ENV).credentials
    assert creds is not None
    assert (creds.account_sid, creds.username, creds.password) == (ACCOUNT, KEY, SECRET)
    assert creds.uses_api_key and creds.signing_token is None
    assert creds.source == "environment (TWILIO_API_KEY + TWILIO_API_SECRET + TWILIO_ACCOUNT_SID)"


def test_auth_token_next_to_an_api_key_is_kept_for_webhook_signatures(tmp_path: Path) -> None:
    creds = load(tmp_path, env={**API_KEY_ENV, "TWILIO_AUTH_TOKEN": TOKEN}).credentials
    assert creds is not None
    assert (creds.username, creds.password, creds.signing_token) == (KEY, SECRET, TOKEN)


def test_auth_token_from_environment(tmp_path: Path) -> None:
    creds = load(tmp_path, env=AUTH_TOKEN_ENV).credentials
    assert creds == TwilioCredentials(
        ACCOUNT, ACCOUNT, TOKEN, "environment (TWILIO_ACCOUNT_SID + TWILIO_AUTH_TOKEN)", TOKEN
    )
    assert not creds.uses_api_key


def test_values_are_stripped_and_empty_variables_count_as_unset(tmp_path: Path) -> None:
    env = {
        "TWILIO_ACCOUNT_SID": f" {ACCOUNT}\n",
        "TWILIO_AUTH_TOKEN": f"{TOKEN} ",
        "TWILIO_API_KEY": "",
        "TWILIO_API_SECRET": "   ",
        "MSGWATCH_PORT": "",
    }
    config = load(tmp_path, env=env)
    assert config.credentials is not None
    assert (config.credentials.account_sid, config.credentials.password) == (ACCOUNT, TOKEN)
    assert config.port == DEFAULT_PORT


def test_active_cli_profile(tmp_path: Path) -> None:
    write_cli(
        tmp_path,
        {"profiles": {"dev": profile(), "prod": profile(OTHER_ACCOUNT)}, "activeProject": "prod"},
    )
    creds = load(tmp_path).credentials
    assert creds is not None
    assert (creds.account_sid, creds.username, creds.password) == (OTHER_ACCOUNT, KEY, CLI_SECRET)
    assert creds.source == "Twilio CLI profile 'prod'"
    assert creds.signing_token is None  # an API key's secret cannot check signatures


def test_cli_profile_in_the_older_projects_shape(tmp_path: Path) -> None:
    write_cli(tmp_path, {"projects": {"old": profile()}, "activeProject": "old"})
    creds = load(tmp_path).credentials
    assert creds is not None and creds.source == "Twilio CLI profile 'old'"
    assert creds.password == CLI_SECRET


def test_cli_profile_kept_in_the_keychain_is_a_clear_error(tmp_path: Path) -> None:
    # What twilio-cli 2.x wrote: a list of projects, the key in the system keychain.
    write_cli(
        tmp_path,
        {
            "projects": [{"id": "legacy", "accountSid": ACCOUNT, "region": None}],
            "activeProject": "legacy",
        },
    )
    message = error(tmp_path)
    assert "'legacy'" in message and "keychain" in message


def test_cli_profiles_shape_wins_over_projects_with_the_same_name(tmp_path: Path) -> None:
    write_cli(
        tmp_path,
        {
            "projects": [{"id": "dev", "accountSid": OTHER_ACCOUNT}],
            "profiles": {"dev": profile()},
            "activeProject": "dev",
        },
    )
    creds = load(tmp_path).credentials
    assert creds is not None and creds.account_sid == ACCOUNT


def test_cli_profile_of_an_auth_token_login(tmp_path: Path) -> None:
    write_cli(tmp_path, cli_doc(tok=profile(key=ACCOUNT, secret=TOKEN)))
    creds = load(tmp_path).credentials
    assert creds is not None and not creds.uses_api_key
    assert (creds.password, creds.signing_token) == (TOKEN, TOKEN)


def test_explicit_profile_is_chosen_over_the_active_one_and_the_environment(
    tmp_path: Path,
) -> None:
    write_cli(
        tmp_path,
        {"profiles": {"dev": profile(), "prod": profile(OTHER_ACCOUNT)}, "activeProject": "dev"},
    )
    creds = load(tmp_path, profile=" prod ", env=AUTH_TOKEN_ENV).credentials
    assert creds is not None and creds.account_sid == OTHER_ACCOUNT


def test_missing_profile_names_the_ones_that_exist(tmp_path: Path) -> None:
    path = write_cli(tmp_path, cli_doc(dev=profile(), prod=profile()))
    message = error(tmp_path, profile="staging")
    assert "'staging'" in message and "'dev', 'prod'" in message and str(path) in message


def test_profile_without_a_cli_config_file(tmp_path: Path) -> None:
    assert "no Twilio CLI config" in error(tmp_path, profile="dev")


def test_empty_profile_name(tmp_path: Path) -> None:
    assert error(tmp_path, profile=" ").startswith("--profile:")


def test_active_profile_that_does_not_exist(tmp_path: Path) -> None:
    write_cli(tmp_path, {"profiles": {"dev": profile()}, "activeProject": "gone"})
    message = error(tmp_path)
    assert "'gone'" in message and "'dev'" in message


def test_cli_file_without_an_active_profile_is_not_a_source(tmp_path: Path) -> None:
    write_cli(tmp_path, {"profiles": {"dev": profile()}})
    assert load(tmp_path).demo


def test_toml_credentials_with_an_auth_token(tmp_path: Path) -> None:
    path = write_toml(
        tmp_path / "c.toml", f'[twilio]\naccount_sid = "{ACCOUNT}"\nauth_token = "{FILE_TOKEN}"\n'
    )
    creds = load(tmp_path, config_path=path).credentials
    assert creds == TwilioCredentials(ACCOUNT, ACCOUNT, FILE_TOKEN, str(path), FILE_TOKEN)


def test_toml_credentials_with_an_api_key(tmp_path: Path) -> None:
    path = write_toml(
        tmp_path / "c.toml",
        f'[twilio]\naccount_sid = "{ACCOUNT}"\napi_key = "{KEY}"\napi_secret = "{SECRET}"\n',
    )
    creds = load(tmp_path, config_path=path).credentials
    assert creds is not None and (creds.username, creds.password) == (KEY, SECRET)
    assert creds.source == str(path)


def test_default_config_file_is_read_when_present(tmp_path: Path) -> None:
    write_toml(tmp_path / "default.toml", "[defaults]\nport = 4000\n")
    config = load(tmp_path)
    assert config.port == 4000 and config.config_file == tmp_path / "default.toml"


def test_config_file_from_the_environment(tmp_path: Path) -> None:
    path = write_toml(tmp_path / "elsewhere.toml", "[defaults]\nport = 4001\n")
    assert load(tmp_path, env={"MSGWATCH_CONFIG": str(path)}).port == 4001


def test_a_named_config_file_must_exist(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    assert str(missing) in error(tmp_path, config_path=missing)
    assert "does not exist" in error(tmp_path, env={"MSGWATCH_CONFIG": str(missing)})


# -- which credential source wins ----------------------------------------------------------


def test_environment_beats_the_active_cli_profile_and_the_file(tmp_path: Path) -> None:
    write_cli(tmp_path, cli_doc(dev=profile(OTHER_ACCOUNT)))
    path = toml_creds(tmp_path, OTHER_ACCOUNT)
    creds = load(tmp_path, env=AUTH_TOKEN_ENV, config_path=path).credentials
    assert creds is not None and creds.account_sid == ACCOUNT


def test_api_key_variables_beat_the_auth_token_pair(tmp_path: Path) -> None:
    creds = load(tmp_path, env={**API_KEY_ENV, "TWILIO_AUTH_TOKEN": TOKEN}).credentials
    assert creds is not None and creds.username == KEY


def test_active_cli_profile_beats_the_file(tmp_path: Path) -> None:
    write_cli(tmp_path, cli_doc(dev=profile(OTHER_ACCOUNT)))
    path = toml_creds(tmp_path)
    creds = load(tmp_path, config_path=path).credentials
    assert creds is not None and creds.source == "Twilio CLI profile 'dev'"


def test_environment_wins_without_reading_a_broken_cli_file(tmp_path: Path) -> None:
    cli = tmp_path / "home" / ".twilio-cli" / "config.json"
    write_toml(cli, "{not json")
    assert load(tmp_path, env=AUTH_TOKEN_ENV).credentials is not None
    assert "not valid JSON" in error(tmp_path)  # ...but it is an error once it is needed


# -- partial sources are errors, not fall-throughs -----------------------------------------


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"TWILIO_ACCOUNT_SID": ACCOUNT}, "TWILIO_ACCOUNT_SID is set without TWILIO_AUTH_TOKEN"),
        ({"TWILIO_AUTH_TOKEN": TOKEN}, "TWILIO_AUTH_TOKEN is set without TWILIO_ACCOUNT_SID"),
        ({"TWILIO_API_KEY": KEY, "TWILIO_ACCOUNT_SID": ACCOUNT}, "without TWILIO_API_SECRET"),
        ({"TWILIO_API_SECRET": SECRET, "TWILIO_ACCOUNT_SID": ACCOUNT}, "without TWILIO_API_KEY"),
        ({"TWILIO_API_KEY": KEY, "TWILIO_API_SECRET": SECRET}, "without TWILIO_ACCOUNT_SID"),
        (
            {"TWILIO_API_KEY": KEY, "TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_ACCOUNT_SID": ACCOUNT},
            "without TWILIO_API_SECRET",
        ),
    ],
)
def test_partial_environment_is_an_error_even_with_other_sources(
    tmp_path: Path, env: dict[str, str], named: str
) -> None:
    write_cli(tmp_path, cli_doc(dev=profile()))
    path = toml_creds(tmp_path)
    assert named in error(tmp_path, env=env, config_path=path)


@pytest.mark.parametrize(
    ("table", "named"),
    [
        (f'account_sid = "{ACCOUNT}"', "account_sid is set without auth_token"),
        (f'auth_token = "{FILE_TOKEN}"', "account_sid is missing"),
        (f'account_sid = "{ACCOUNT}"\napi_key = "{KEY}"', "api_key is set without api_secret"),
        (
            f'account_sid = "{ACCOUNT}"\napi_secret = "{SECRET}"',
            "api_secret is set without api_key",
        ),
        (f'api_key = "{KEY}"\napi_secret = "{SECRET}"', "account_sid is missing"),
    ],
)
def test_partial_toml_credentials_are_an_error(tmp_path: Path, table: str, named: str) -> None:
    path = write_toml(tmp_path / "c.toml", f"[twilio]\n{table}\n")
    message = error(tmp_path, config_path=path)
    assert message.startswith(f"{path} [twilio]: ") and named in message


def test_partial_cli_profile_is_an_error(tmp_path: Path) -> None:
    write_cli(tmp_path, cli_doc(dev={"accountSid": ACCOUNT, "apiKey": KEY}))
    assert "'dev'" in error(tmp_path)


# -- precedence for every other setting: command line > environment > file > default -------

# name: (toml key, env var, flag, command-line value, env value, file value as TOML, expected)
Row = tuple[str, str, str, tuple[object, str, str], tuple[object, object, object]]
SETTINGS: dict[str, Row] = {
    "from_number": ("from", "MSGWATCH_FROM", "--from",
                    ("+14155550101", "+14155550102", '"+1 415 555 0103"'),
                    ("+14155550101", "+14155550102", "+14155550103")),
    "messaging_service_sid": ("messaging_service_sid", "MSGWATCH_MESSAGING_SERVICE_SID",
                              "--messaging-service-sid",
                              ("MG" + "1" * 32, "MG" + "2" * 32, f'"MG{"3" * 32}"'),
                              ("MG" + "1" * 32, "MG" + "2" * 32, "MG" + "3" * 32)),
    "public_url": ("public_url", "MSGWATCH_PUBLIC_URL", "--public-url",
                   ("https://cli.example", "https://env.example/", '"https://file.example/tw"'),
                   ("https://cli.example", "https://env.example", "https://file.example/tw")),
    "api_base": ("api_base", "MSGWATCH_API_BASE", "--api-base",
                 ("http://127.0.0.1:1001", "http://127.0.0.1:1002", '"http://127.0.0.1:1003"'),
                 ("http://127.0.0.1:1001", "http://127.0.0.1:1002", "http://127.0.0.1:1003")),
    "db_path": ("db", "MSGWATCH_DB", "--db",
                (Path("/srv/cli.db"), "/srv/env.db", '"/srv/file.db"'),
                (Path("/srv/cli.db"), Path("/srv/env.db"), Path("/srv/file.db"))),
    "host": ("host", "MSGWATCH_HOST", "--host",
             ("127.0.0.2", "::1", '"0.0.0.0"'), ("127.0.0.2", "::1", "0.0.0.0")),
    "port": ("port", "MSGWATCH_PORT", "--port", (1001, "1002", "1003"), (1001, 1002, 1003)),
    "stuck_after": ("stuck_after", "MSGWATCH_STUCK_AFTER", "--stuck-after",
                    (11, "12.5", "13"), (11.0, 12.5, 13.0)),
    "reconcile_every": ("reconcile_every", "MSGWATCH_RECONCILE_EVERY", "--reconcile-every",
                        ("21", "22", "23.25"), (21.0, 22.0, 23.25)),
    "poll_budget_per_minute": ("poll_budget_per_minute", "MSGWATCH_POLL_BUDGET_PER_MINUTE",
                               "--poll-budget-per-minute", ("31", "32", "33"), (31, 32, 33)),
}  # fmt: skip
DEFAULTS: dict[str, object] = {
    "from_number": None,
    "messaging_service_sid": None,
    "public_url": None,
    "api_base": None,
    "host": DEFAULT_HOST,
    "port": DEFAULT_PORT,
    "stuck_after": DEFAULT_STUCK_AFTER,
    "reconcile_every": DEFAULT_RECONCILE_EVERY,
    "poll_budget_per_minute": DEFAULT_POLL_BUDGET_PER_MINUTE,
}


@pytest.mark.parametrize(
    ("name", "present"),
    [
        (name, present)
        for name in SETTINGS
        for present in itertools.product((False, True), repeat=3)  # cli, env, file
    ],
)
def test_each_setting_takes_the_highest_source_present(
    tmp_path: Path, name: str, present: tuple[bool, bool, bool]
) -> None:
    key, env_name, flag, (cli, env_value, file_value), expected = SETTINGS[name]
    has_cli, has_env, has_file = present
    path = write_toml(
        tmp_path / "c.toml", f"[defaults]\n{key} = {file_value}\n" if has_file else ""
    )
    config = load(
        tmp_path,
        config_path=path,
        overrides={name: cli if has_cli else None},
        env={env_name: env_value} if has_env else {},
    )
    if has_cli:
        want, source = expected[0], flag
    elif has_env:
        want, source = expected[1], env_name
    elif has_file:
        want, source = expected[2], f"{path} [defaults] {key}"
    else:
        want = DEFAULTS.get(name, tmp_path / "data" / "msgwatch.db")
        source = "default"
    assert getattr(config, name) == want
    assert config.sources[name] == source


def test_override_aliases_and_unknown_names(tmp_path: Path) -> None:
    config = load(tmp_path, overrides={"from": "+14155550100", "db": "/srv/a.db", "port": None})
    assert config.from_number == "+14155550100" and config.db_path == Path("/srv/a.db")
    assert config.port == DEFAULT_PORT  # None means "not given on the command line"
    with pytest.raises(TypeError):
        load(tmp_path, overrides={"prot": 1})


def test_env_defaults_to_the_process_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in (
        "TWILIO_ACCOUNT_SID",
        "TWILIO_AUTH_TOKEN",
        "TWILIO_API_KEY",
        "TWILIO_API_SECRET",
        "MSGWATCH_CONFIG",
        "TWILIO_REGION",
        "TWILIO_EDGE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MSGWATCH_PORT", "4321")
    assert load(tmp_path, env=None).port == 4321


# -- paths ---------------------------------------------------------------------------------


def test_relative_db_in_the_file_is_next_to_the_file(tmp_path: Path) -> None:
    path = write_toml(tmp_path / "conf" / "c.toml", '[defaults]\ndb = "data/m.db"\n')
    assert load(tmp_path, config_path=path).db_path == tmp_path / "conf" / "data" / "m.db"


def test_db_home_is_expanded_against_the_given_home(tmp_path: Path) -> None:
    config = load(tmp_path, env={"MSGWATCH_DB": "~/m.db"})
    assert config.db_path == tmp_path / "home" / "m.db"


def test_db_with_a_nul_character(tmp_path: Path) -> None:
    assert "NUL" in error(tmp_path, overrides={"db": "a\x00b.db"})


def test_db_that_is_a_directory(tmp_path: Path) -> None:
    message = error(tmp_path, env={"MSGWATCH_DB": str(tmp_path)})
    assert message.startswith("MSGWATCH_DB: ") and "directory" in message


# -- bad values: one sentence naming the source ---------------------------------------------


@pytest.mark.parametrize(
    ("env_name", "value", "says"),
    [
        ("MSGWATCH_FROM", "+1415", "'+1415' is too short"),
        ("MSGWATCH_FROM", "14155550100", "leading '+'"),
        ("MSGWATCH_FROM", "not a valid sender id", "at most 11"),
        ("MSGWATCH_MESSAGING_SERVICE_SID", "MG123", "'MG123' is not a Messaging Service SID"),
        ("MSGWATCH_MESSAGING_SERVICE_SID", "PN" + "a" * 32, "not a Messaging Service SID"),
        ("MSGWATCH_PUBLIC_URL", "ftp://files.example", "not an http(s) URL"),
        ("MSGWATCH_PUBLIC_URL", "abc.ngrok.app", "not an http(s) URL"),
        ("MSGWATCH_PUBLIC_URL", "https://", "not an http(s) URL"),
        ("MSGWATCH_PUBLIC_URL", "https://a.example/x?y=1", "without '?' or '#'"),
        ("MSGWATCH_PUBLIC_URL", "https://a b.example", "not an http(s) URL"),
        ("MSGWATCH_API_BASE", "http://127.0.0.1:99999", "not an http(s) URL"),
        ("MSGWATCH_API_BASE", "http://[::1", "not an http(s) URL"),
        ("MSGWATCH_HOST", "http://localhost", "not a host name or IP address"),
        ("MSGWATCH_PORT", "abc", "'abc' is not a port number (0-65535)"),
        ("MSGWATCH_PORT", "65536", "65536 is not a port number"),
        ("MSGWATCH_PORT", "-1", "-1 is not a port number"),
        ("MSGWATCH_PORT", "80.5", "is not a port number"),
        ("MSGWATCH_STUCK_AFTER", "0", "not a number of seconds greater than 0"),
        ("MSGWATCH_STUCK_AFTER", "inf", "not a number of seconds greater than 0"),
        ("MSGWATCH_RECONCILE_EVERY", "ten", "'ten' is not a number of seconds"),
        ("MSGWATCH_POLL_BUDGET_PER_MINUTE", "0", "at least 1"),
        ("MSGWATCH_POLL_BUDGET_PER_MINUTE", "1" * 30, "is not a number of fetches"),
        ("TWILIO_ACCOUNT_SID", "AC123", "'AC123' is not an Account SID"),
    ],
)
def test_bad_environment_values(tmp_path: Path, env_name: str, value: str, says: str) -> None:
    env = {env_name: value}
    if env_name == "TWILIO_ACCOUNT_SID":
        env["TWILIO_AUTH_TOKEN"] = TOKEN
    message = error(tmp_path, env=env)
    assert message.startswith(f"{env_name}: ") and says in message


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("port = true", "expected a whole number, not true/false"),
        ("port = 1.5", "expected a whole number, not a number"),
        ("from = 14155550100", "expected a phone number, short code or sender ID in quotes"),
        ("stuck_after = -5", "-5 is not a number of seconds"),
        ("public_url = []", "not a list"),
        ('host = ""', "the value is empty"),
        ("port = 1" + "0" * 400, "that number is not a port number"),
        ("stuck_after = 1e400", "is not a number of seconds greater than 0"),
        ("stuck_after = 1" + "0" * 400, "that number is not a number of seconds"),
    ],
)
def test_bad_file_values_name_the_file_and_key(tmp_path: Path, line: str, says: str) -> None:
    path = write_toml(tmp_path / "c.toml", f"[defaults]\n{line}\n")
    key = line.split(" ")[0]
    message = error(tmp_path, config_path=path)
    assert message.startswith(f"{path} [defaults] {key}: ") and says in message


def test_bad_command_line_value_names_the_flag(tmp_path: Path) -> None:
    assert error(tmp_path, overrides={"port": "http"}).startswith("--port: 'http'")
    assert error(tmp_path, overrides={"from_number": "+1"}).startswith("--from: ")


def test_url_with_a_password_is_refused_without_repeating_it(tmp_path: Path) -> None:
    message = error(tmp_path, env={"MSGWATCH_PUBLIC_URL": "https://me:hunter2pw@a.example"})
    assert "hunter2pw" not in message and "user name or password" in message


def test_urls_lose_their_trailing_slash(tmp_path: Path) -> None:
    config = load(tmp_path, env={"MSGWATCH_API_BASE": "http://127.0.0.1:8765/"})
    assert config.api_base == "http://127.0.0.1:8765"


def test_from_accepts_what_twilio_accepts(tmp_path: Path) -> None:
    assert load(tmp_path, env={"MSGWATCH_FROM": MG}).from_number == MG
    assert load(tmp_path, env={"MSGWATCH_FROM": "ACME Co"}).from_number == "ACME Co"
    assert load(tmp_path, env={"MSGWATCH_FROM": "whatsapp:+14155550100"}).from_number == (
        "whatsapp:+14155550100"
    )


def test_control_characters_never_reach_the_message(tmp_path: Path) -> None:
    message = error(tmp_path, env={"MSGWATCH_HOST": "evil\x1b[31m\nhost"})
    assert "\x1b" not in message and "\\u001b" in message


# -- malformed files -----------------------------------------------------------------------


def test_malformed_toml_names_the_file_and_line(tmp_path: Path) -> None:
    path = write_toml(tmp_path / "c.toml", "[defaults]\nport = 1\nport = = 2\n")
    message = error(tmp_path, config_path=path)
    assert message.startswith(f"{path}: not valid TOML") and "line 3" in message


def test_malformed_cli_json_names_the_file_and_line(tmp_path: Path) -> None:
    cli = tmp_path / "home" / ".twilio-cli" / "config.json"
    write_toml(cli, '{\n  "profiles": {\n    "dev": {"accountSid": "AC" "x"}\n}}\n')
    message = error(tmp_path)
    assert message.startswith(f"{cli}: not valid JSON at line 3, column")


def test_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_bytes(b"[defaults]\nhost = '\xff'\n")
    assert (
        error(tmp_path, config_path=path) == f"{path}: the config file is not UTF-8 text (line 2)."
    )


def test_toml_number_too_long_for_python(tmp_path: Path) -> None:
    path = write_toml(tmp_path / "c.toml", "[defaults]\nport = 1" + "0" * 5000 + "\n")
    assert error(tmp_path, config_path=path) == (
        f"{path}: not valid TOML: a number in it is too long."
    )


def test_config_path_that_is_a_directory(tmp_path: Path) -> None:
    assert "is a directory" in error(tmp_path, config_path=tmp_path)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("[defaults]\npubic_url = 'https://a.example'\n", "did you mean 'public_url'?"),
        ("[default]\nport = 1\n", "did you mean 'defaults'?"),
        ("port = 1\n", "'port' belongs under [defaults]"),
        ("auth_token = 'x'\n", "'auth_token' belongs under [twilio]"),
        ("defaults = 3\n", "[defaults] should be a table"),
        ("[twilio]\naccount = 'x'\n", "unknown setting 'account'"),
    ],
)
def test_unknown_or_misplaced_file_keys(tmp_path: Path, text: str, says: str) -> None:
    path = write_toml(tmp_path / "c.toml", text)
    message = error(tmp_path, config_path=path)
    assert message.startswith(str(path)) and says in message


@pytest.mark.parametrize(
    "doc",
    [[], {"profiles": 3, "activeProject": "x"}, {"profiles": {"x": "no"}, "activeProject": "x"}],
)
def test_cli_json_of_the_wrong_shape(tmp_path: Path, doc: object) -> None:
    write_cli(tmp_path, doc)
    error(tmp_path)


# -- secrets never show --------------------------------------------------------------------


def secret_leaks(secret: str, *texts: str) -> list[str]:
    return [text for text in texts if secret in text]


def test_secrets_are_never_shown(tmp_path: Path) -> None:
    """Every way a configuration or an error becomes text, grepped for every secret."""
    write_cli(tmp_path, cli_doc(dev=profile()))
    toml = toml_creds(tmp_path)
    shown: list[str] = []
    configs = [
        load(tmp_path, env={**API_KEY_ENV, "TWILIO_AUTH_TOKEN": TOKEN}),
        load(tmp_path, env=AUTH_TOKEN_ENV),
        load(tmp_path),  # the CLI profile
        load(tmp_path, config_path=toml, home=tmp_path / "nohome"),
    ]
    for config in configs:
        assert config.credentials is not None
        shown += [repr(config), str(config), repr(config.credentials), str(config.credentials)]
        shown += [config.credentials.masked, *config.describe()]
    broken = [
        # whitespace inside a secret, in each slot
        {"TWILIO_ACCOUNT_SID": ACCOUNT, "TWILIO_AUTH_TOKEN": TOKEN[:10] + " " + TOKEN[10:]},
        {**API_KEY_ENV, "TWILIO_API_SECRET": SECRET[:5] + "\t" + SECRET[5:]},
        # a secret pasted into a SID's variable
        {"TWILIO_ACCOUNT_SID": TOKEN, "TWILIO_AUTH_TOKEN": TOKEN},
        {"TWILIO_ACCOUNT_SID": ACCOUNT, "TWILIO_API_KEY": SECRET, "TWILIO_API_SECRET": KEY},
        # a partial source around a secret
        {"TWILIO_API_SECRET": SECRET},
        {"TWILIO_AUTH_TOKEN": TOKEN},
    ]
    for env in broken:
        shown.append(error(tmp_path, env=env, home=tmp_path / "nohome"))
    for bad_file in (
        f'[twilio]\naccount_sid = "{ACCOUNT}"\nauth_token = "{FILE_TOKEN}\n',  # unterminated
        f'[twilio]\naccount_sid = "{ACCOUNT}"\nauth_token = {FILE_TOKEN}\n',  # unquoted
        f'[twilio]\naccount_sid = "{FILE_TOKEN}"\nauth_token = "{FILE_TOKEN}"\n',
    ):
        write_toml(toml, bad_file)
        shown.append(error(tmp_path, config_path=toml, home=tmp_path / "nohome"))
    write_cli(
        tmp_path, {"profiles": {"dev": {"apiSecret": CLI_SECRET, "x": 1}}, "activeProject": 1}
    )
    cli = tmp_path / "home" / ".twilio-cli" / "config.json"
    cli.write_text(cli.read_text().replace('"x": 1', '"x" 1'))  # a JSON syntax error
    shown.append(error(tmp_path))
    write_cli(tmp_path, cli_doc(dev=profile(account=CLI_SECRET)))  # secret as the account SID
    shown.append(error(tmp_path))

    for secret in (TOKEN, SECRET, CLI_SECRET, FILE_TOKEN):
        assert not secret_leaks(secret, *shown), secret
    assert any(mask_secret(TOKEN) in text for text in shown)  # masked is how it is referred to


ALNUM = string.ascii_letters + string.digits


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    secret=st.text(alphabet=ALNUM, min_size=32, max_size=32),
    slot=st.sampled_from(
        ["TWILIO_AUTH_TOKEN", "TWILIO_API_SECRET", "TWILIO_ACCOUNT_SID", "TWILIO_API_KEY"]
    ),
    base=st.sampled_from([AUTH_TOKEN_ENV, API_KEY_ENV, {}]),
)
def test_a_secret_in_any_variable_is_never_echoed(
    tmp_path: Path, secret: str, slot: str, base: Mapping[str, str]
) -> None:
    env = {**base, slot: secret}
    try:
        config = load(tmp_path, env=env)
    except ConfigError as exc:
        texts = [str(exc)]
    else:
        texts = [repr(config), *config.describe()]
        if config.credentials is not None:
            texts.append(config.credentials.masked)
    assert not secret_leaks(secret, *texts)


# -- properties of the parsers -------------------------------------------------------------

HEX = "0123456789abcdefABCDEF"
sids = st.builds(lambda body: "AC" + body, st.text(alphabet=HEX, min_size=32, max_size=32))


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.one_of(sids, st.text(max_size=40), st.text(alphabet=HEX + "ACSK", max_size=36)))
def test_account_sid_is_prefix_and_32_hex_digits(tmp_path: Path, value: str) -> None:
    env = {"TWILIO_ACCOUNT_SID": value, "TWILIO_AUTH_TOKEN": TOKEN}
    valid = re.fullmatch(r"AC[0-9a-fA-F]{32}", value.strip()) is not None
    try:
        creds = load(tmp_path, env=env).credentials
    except ConfigError as exc:
        assert not valid
        assert "\n" not in str(exc)
    else:
        assert valid and creds is not None and creds.account_sid == value.strip()


@settings(max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(port=st.integers(min_value=-(10**6), max_value=10**6))
def test_port_range(tmp_path: Path, port: int) -> None:
    try:
        config = load(tmp_path, env={"MSGWATCH_PORT": str(port)})
    except ConfigError as exc:
        assert not 0 <= port <= 65535
        assert str(exc).startswith("MSGWATCH_PORT: ")
    else:
        assert config.port == port


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=50),
    st.binary(max_size=4),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=5,
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(sorted(SETTINGS)), value=values)
def test_any_value_is_taken_or_refused_in_one_line(
    tmp_path: Path, name: str, value: object
) -> None:
    """Never a traceback for user input: any value is a Config or a one-line ConfigError."""
    flag = SETTINGS[name][2]
    try:
        load(tmp_path, overrides={name: value})
    except ConfigError as exc:
        message = str(exc)
        assert message.startswith(f"{flag}: ") and "\n" not in message
        assert not any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 for c in message)


@settings(max_examples=100, deadline=None)
@given(text=st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=80))
def test_any_config_file_is_read_or_refused_in_one_line(text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        path = write_toml(root / "c.toml", text)
        try:
            load(root, config_path=path)
        except ConfigError as exc:
            assert str(exc).startswith(str(path)) and "\n" not in str(exc)


# -- describe() ----------------------------------------------------------------------------


def test_describe_says_every_setting_and_where_it_came_from(tmp_path: Path) -> None:
    path = write_toml(tmp_path / "c.toml", '[defaults]\nhost = "0.0.0.0"\n')
    config = load(
        tmp_path,
        env={**API_KEY_ENV, "MSGWATCH_PORT": "9000"},
        config_path=path,
        overrides={"public_url": "https://abc.ngrok.app"},
    )
    lines = config.describe()
    text = "\n".join(lines)
    assert any(re.search(r"receiver port\s+9000\s+\(MSGWATCH_PORT\)", line) for line in lines)
    assert any(
        re.search(rf"receiver host\s+0\.0\.0\.0\s+\({re.escape(str(path))}", line) for line in lines
    )
    assert any(
        re.search(r"public URL\s+https://abc\.ngrok\.app\s+\(--public-url\)", line)
        for line in lines
    )
    assert any(re.search(r"from\s+not set\s+\(default\)", line) for line in lines)
    assert f"{KEY[:4]}\u2026{KEY[-4:]} / {mask_secret(SECRET)}" in text
    assert "account" in text and "webhook signatures cannot be checked" in text
    for label in (
        "database",
        "receiver host",
        "receiver port",
        "stuck after",
        "reconcile every",
        "poll budget",
        "messaging service",
        "API base",
        "config file",
    ):
        assert label in text


def test_describe_in_demo_mode(tmp_path: Path) -> None:
    lines = load(tmp_path).describe()
    assert lines[0].split()[:2] == ["mode", "demo:"]
    assert not any(line.startswith(("credentials", "webhook signing")) for line in lines)


def test_masked_credentials(tmp_path: Path) -> None:
    creds = load(tmp_path, env=AUTH_TOKEN_ENV).credentials
    assert creds is not None
    assert creds.masked == f"AC01\u2026cdef / {mask_secret(TOKEN)}"
