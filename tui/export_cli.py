"""`msgwatch export`: messages and their event timelines to stdout (or a file)."""

from __future__ import annotations

import argparse
import asyncio
import io
import sys
from datetime import UTC, datetime
from pathlib import Path

from tui.domain.status import MessageStatus
from tui.serve_cli import default_db
from tui.services.export import ExportFormat, export_lines
from tui.store import MessageFilter, Store, StoreError

EXIT_USAGE = 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format", choices=[f.value for f in ExportFormat], default="jsonl", help="default jsonl"
    )
    parser.add_argument(
        "--status",
        action="append",
        default=[],
        metavar="STATUS",
        help="only messages in this status (repeatable; e.g. undelivered)",
    )
    parser.add_argument(
        "--since", default=None, help="only messages created at or after this ISO time (UTC)"
    )
    parser.add_argument("--until", default=None, help="only messages created before this time")
    parser.add_argument("--db", type=Path, default=None, help=f"database (default {default_db()})")
    parser.add_argument("--output", "-o", type=Path, default=None, help="file (default stdout)")


class UsageError(ValueError):
    pass


def _time(text: str | None, flag: str) -> datetime | None:
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"{flag}: {text!r} is not an ISO date/time like 2026-11-23T08:00Z."
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _filter(args: argparse.Namespace) -> MessageFilter:
    statuses = set()
    for raw in args.status:
        try:
            statuses.add(MessageStatus(raw.strip().lower()))
        except ValueError:
            known = ", ".join(s.value for s in MessageStatus)
            raise UsageError(f"--status: {raw!r} is not a status; use one of {known}.") from None
    return MessageFilter(
        statuses=frozenset(statuses),
        since=_time(args.since, "--since"),
        until=_time(args.until, "--until"),
    )


async def _export(args: argparse.Namespace, flt: MessageFilter) -> int:
    db = args.db or default_db()
    if not db.exists():
        print(f"msgwatch export: no database at {db}.", file=sys.stderr)
        return 1
    store = await Store.open(db)
    count = 0
    try:
        out = (
            args.output.open("w", encoding="utf-8", errors="backslashreplace", newline="")
            if args.output
            else sys.stdout
        )
        try:
            async for line in export_lines(store, ExportFormat(args.format), flt):
                out.write(line)
                count += 1
        finally:
            if args.output:
                out.close()
    finally:
        await store.close()
    header = 1 if args.format == ExportFormat.CSV else 0
    print(f"msgwatch export: {count - header} messages.", file=sys.stderr)
    return 0


def run(args: argparse.Namespace) -> int:
    try:
        flt = _filter(args)
    except UsageError as exc:
        print(f"msgwatch export: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if isinstance(sys.stdout, io.TextIOWrapper):
        # A body that was not valid UTF-8 must not abort an export half-way.
        sys.stdout.reconfigure(errors="backslashreplace")
    try:
        return asyncio.run(_export(args, flt))
    except StoreError as exc:
        print(f"msgwatch export: {exc}", file=sys.stderr)
        return 1
