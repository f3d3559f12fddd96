"""`msgwatch emulator`: the local Twilio, standalone, until Ctrl-C.

Prints the base URL and the credentials to use with it. Credentials it generated are local
and printed in full (they are needed to talk to it); a token passed in is masked, because
it may be someone's real one.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import sys

from tui.domain.masking import mask_secret
from tui.emulator.accounts import Credentials
from tui.emulator.runner import LocalTwilio
from tui.emulator.scenarios import PRESETS, ScenarioError, load_scenario
from tui.signals import until_stopped


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback)")
    parser.add_argument("--port", type=int, default=0, help="port (default: any free one)")
    parser.add_argument(
        "--scenario",
        default="happy",
        help=f"a preset ({', '.join(PRESETS)}) or a .toml file (default: happy)",
    )
    parser.add_argument(
        "--speed", type=float, default=1.0, help="time factor: 10 makes a 5 s step take 0.5 s"
    )
    parser.add_argument("--seed", type=int, default=None, help="make the carrier's dice repeatable")
    parser.add_argument("--account-sid", default=None, help="account SID to accept (AC...)")
    parser.add_argument("--auth-token", default=None, help="auth token to accept")
    parser.add_argument(
        "--inbound-url", default=None, help="where recipients' replies are posted (webhook URL)"
    )


def _credentials(args: argparse.Namespace) -> tuple[Credentials, bool]:
    generated = Credentials.generate()
    if args.account_sid is None and args.auth_token is None:
        return generated, True
    if not (args.account_sid and args.auth_token):
        raise SystemExit("msgwatch emulator: give both --account-sid and --auth-token, or neither.")
    if not (args.account_sid.startswith("AC") and len(args.account_sid) == 34):
        raise SystemExit("msgwatch emulator: --account-sid must be AC followed by 32 hex digits.")
    return (
        Credentials(
            account_sid=args.account_sid,
            auth_token=args.auth_token,
            api_keys=generated.api_keys,
            test_account_sid=generated.test_account_sid,
            test_auth_token=generated.test_auth_token,
        ),
        False,
    )


async def _serve(args: argparse.Namespace) -> int:
    try:
        scenario = load_scenario(args.scenario)
    except ScenarioError as exc:
        print(f"msgwatch emulator: {exc}", file=sys.stderr)
        return 2
    if args.speed <= 0:
        print("msgwatch emulator: --speed must be more than 0.", file=sys.stderr)
        return 2
    credentials, generated = _credentials(args)
    local = LocalTwilio(
        credentials=credentials,
        scenario=scenario,
        speed=args.speed,
        seed=args.seed,
        inbound_url=args.inbound_url,
        host=args.host,
        port=args.port,
    )
    try:
        base_url = await local.start()
    except OSError as exc:
        await local.stop()
        why = "is already in use" if exc.errno == errno.EADDRINUSE else f"failed: {exc.strerror}"
        print(f"msgwatch emulator: binding {args.host}:{args.port} {why}.", file=sys.stderr)
        return 1
    token = credentials.auth_token if generated else mask_secret(credentials.auth_token)
    key_sid, key_secret = next(iter(credentials.api_keys.items()))
    print(
        f"Local Twilio listening on {base_url}  (scenario {scenario.name}, speed x{args.speed})\n"
        f"  account SID   {credentials.account_sid}\n"
        f"  auth token    {token}\n"
        f"  API key       {key_sid} / {key_secret}\n"
        f"  test creds    {credentials.test_account_sid} / {credentials.test_auth_token}\n"
        f"  deliveries    {base_url}/_emulator/deliveries\n"
        f'Python SDK:  client = Client(SID, TOKEN); client.api.base_url = "{base_url}"\n'
        + (
            "msgwatch, from another shell:\n"
            f"  export TWILIO_ACCOUNT_SID={credentials.account_sid} "
            f"TWILIO_AUTH_TOKEN={credentials.auth_token} MSGWATCH_API_BASE={base_url}\n"
            "  msgwatch send --to +14155550100 --from +14155550111 --body 'Hello' --wait\n"
            if generated
            else ""
        )
        + "Ctrl-C stops it.",
        flush=True,
    )
    try:
        await until_stopped()
    finally:
        await local.stop()
    print("Local Twilio stopped.", flush=True)
    return 0


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_serve(args))
