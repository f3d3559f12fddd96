"""Crash durability, the long run: `msgwatch serve` killed with SIGKILL N times under load.

    python bench/crash.py [--kills 12] [--seconds 60] [--rate 300] [--seed 1]

The fast slice (tests/reliability/test_crash_durability.py) kills twice; this keeps
signed status callbacks coming at `--rate` per second for about `--seconds` (plus the
restarts) over a plan sized to match, kills the server `--kills` times at seeded points
(each kill, at random, the serve process alone or its whole process group with the
writer), restarts it on the same database and port, redelivers what went unanswered as
Twilio would, then stops it with SIGTERM and checks the database against every 200 it
gave. The invariant and the machinery are in bench/crash_harness.py.

Prints a summary and a markdown table for docs/BENCHMARKS.md; exits 1 on any violation
(the work directory, with the server logs and the database, is then kept).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.crash_harness import (  # noqa: E402
    KillMode,
    build_plan,
    crash_run,
    kill_thresholds,
    summary_table,
    trim,
)

# Deliveries per SID in build_plan's mix (histories, retries, repeats), measured over
# seeds: it sizes the plan so that --rate for --seconds sends all of it.
DELIVERIES_PER_SID = 4.33


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=12, help="SIGKILLs (default 12)")
    parser.add_argument("--seconds", type=float, default=60.0, help="traffic time (default 60)")
    parser.add_argument("--rate", type=float, default=300.0, help="deliveries/s (default 300)")
    parser.add_argument("--seed", type=int, default=1, help="plan and kill points (default 1)")
    parser.add_argument("--connections", type=int, default=8, help="client connections")
    parser.add_argument("--workdir", type=Path, default=None, help="keep everything here")
    return parser.parse_args(argv)


async def bench(args: argparse.Namespace, workdir: Path) -> int:
    sids = max(20, round(args.rate * args.seconds / DELIVERIES_PER_SID))
    plan = build_plan(args.seed, sids)
    rng = random.Random(args.seed)
    thresholds = kill_thresholds(rng, len(plan.deliveries), args.kills)
    modes: list[KillMode] = [rng.choice(("pid", "group")) for _ in thresholds]
    print(
        f"{sids} SIDs, {len(plan.deliveries)} deliveries at {args.rate:.0f}/s over "
        f"{args.connections} connections, {args.kills} kills; work in {workdir}",
        flush=True,
    )
    started = time.monotonic()
    run = await crash_run(
        workdir,
        plan,
        list(zip(thresholds, modes, strict=True)),
        concurrency=args.connections,
        rate=args.rate,
    )
    wall = time.monotonic() - started
    r = run.report
    print(
        f"\nkills {r.kills} {r.kill_modes}; sent {r.attempts} ({r.failed_attempts} failed, "
        f"all during kills), acknowledged {r.acked}, found {r.acked_found}, "
        f"missing {r.missing}, merge mismatches {r.merge_mismatches}, "
        f"integrity {r.integrity}, mean restart {r.mean_restart_s:.2f} s\n"
    )
    print(summary_table(r, seed=args.seed, seconds=wall))
    if not r.ok:
        print(f"\nVIOLATIONS ({len(r.violations)}):\n{trim(r.violations, 50)}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.workdir is not None:
        return asyncio.run(bench(args, args.workdir))
    workdir = Path(tempfile.mkdtemp(prefix="msgwatch-crash-"))
    code = asyncio.run(bench(args, workdir))
    if code == 0:
        shutil.rmtree(workdir)
    else:
        print(f"kept {workdir} (server logs, database)", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
