"""An acknowledgement survives kill -9: `msgwatch serve` killed twice mid-traffic.

The receiver answers 200 only after the callback is committed (synchronous=FULL, group
commit), and Twilio does not send an acknowledged callback again. So whatever was
acknowledged must be in the database after the process dies at any moment, and the
messages must hold exactly what the merge rule makes of the events stored.

The machinery (plan, server, client, checker) is bench/crash_harness.py, shared with the
long run `python bench/crash.py`; its docstring states the invariant in full. In short,
with A the requests answered 200 and S those sent:

- integrity_check is 'ok'; every event row is a valid callback that was sent, unaltered;
- every request of A has its event row (by idempotency token, or by content for a repeat
  under a new token), and each row counts between acked(row) and sent(row) deliveries;
- each message's status is `merge_all` of its SID's event rows in id order (with the
  `applied` flags and the error code that follow), and, where Twilio's histories make the
  merge order-independent, also `merge_all` of the acknowledged statuses in the order the
  200s arrived plus the stored rows whose 200 was lost in a kill (at least once is fine);
- no request fails except during a kill, no process of a killed server outlives it, and
  SIGTERM stops the last one with exit status 0.

Each run: 50 SIDs, about 220 deliveries over 6 connections, one kill of the serve process
alone (its writer finishes the batch it holds) and one of its whole process group (the
writer dies mid-transaction too). Seeded: the plan and the kill points repeat, the exact
requests in flight at each kill do not.
"""

from __future__ import annotations

import random
import shutil
import sqlite3
from pathlib import Path

import pytest

from bench.crash_harness import (
    CrashRun,
    KillMode,
    Plan,
    build_plan,
    check,
    crash_run,
    kill_thresholds,
    trim,
)

SIDS = 50
CONNECTIONS = 6
MODES: tuple[KillMode, ...] = ("pid", "group")


def _kills(seed: int, plan: Plan) -> list[tuple[int, KillMode]]:
    thresholds = kill_thresholds(random.Random(seed), len(plan.deliveries), len(MODES))
    return list(zip(thresholds, MODES, strict=True))


def _assert_checker_catches_tampering(run: CrashRun, plan: Plan, tmp_path: Path) -> None:
    """The same database, damaged by hand, must fail the check: a check that cannot fail
    proves nothing."""
    acks, attempts = run.traffic.acks, run.traffic.attempts

    lost = tmp_path / "lost-event.db"
    shutil.copy(run.db, lost)
    victim = plan.callbacks[acks[len(acks) // 2]]
    with sqlite3.connect(lost) as conn:
        deleted = conn.execute(
            "DELETE FROM events WHERE idempotency_token = ? OR params = "
            "(SELECT params FROM events WHERE message_sid = ? AND status = ? LIMIT 1)",
            (victim.token, victim.sid, victim.status),
        ).rowcount
    assert deleted >= 1
    assert check(lost, plan, acks, attempts).missing >= 1

    wrong = tmp_path / "wrong-status.db"
    shutil.copy(run.db, wrong)
    with sqlite3.connect(wrong) as conn:
        changed = conn.execute(
            "UPDATE messages SET status = 'sending', status_rank = 2 "
            "WHERE id = (SELECT min(id) FROM messages WHERE status != 'sending')"
        ).rowcount
    assert changed == 1
    assert check(wrong, plan, acks, attempts).merge_mismatches >= 1


@pytest.mark.parametrize("seed", [7, 2024])
async def test_acknowledged_callbacks_survive_kill_9(tmp_path: Path, seed: int) -> None:
    plan = build_plan(seed, SIDS)
    kills = _kills(seed, plan)
    run = await crash_run(tmp_path / "run", plan, kills, concurrency=CONNECTIONS)
    report = run.report

    where = f"(server logs and database in {tmp_path / 'run'})"
    assert report.ok, f"{trim(report.violations)}\n{where}"
    assert report.kills == len(MODES) and report.kill_modes == {"pid": 1, "group": 1}
    # Everything was delivered in the end (retries after the kills included)...
    assert report.acked == len(plan.deliveries)
    assert report.missing == 0 and report.acked_found == report.acked
    assert report.merge_mismatches == 0 and report.integrity == "ok"
    # ... so each distinct callback is stored exactly once (repeats counted on its row).
    assert report.events == len({c.content for c in plan.callbacks})
    _assert_checker_catches_tampering(run, plan, tmp_path)
