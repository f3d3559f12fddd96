"""Receiver fuzzing, the long run: thousands of generated hostile requests, every one judged.

    .venv/bin/python bench/fuzz.py                           # 10,000 requests, a random seed
    .venv/bin/python bench/fuzz.py --examples 50000 --seed 7 # reproducible

The strategies and the oracle are those of tests/reliability/test_receiver_fuzz.py (they
live in tests/reliability/fuzz_strategies.py): forged, genuine and malformed requests to
/message-status and /incoming, on a receiver with a public URL and one without, over one
real SQLite file, loopback only. Where the test stops at the first violation, this run
counts them all, grouped by the rule broken, and exits 1 if there is any.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import re
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, settings

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.reliability.fuzz_strategies import (  # noqa: E402
    FuzzRequest,
    Harness,
    Violation,
    any_request,
    run_examples,
)

SHOWN_PER_RULE = 2
# Hypothesis keeps every example of a run in memory (~115 KB each here: 1.1 GB for 10,000),
# so a long run is a sequence of runs of this size, each with its own seed.
CHUNK = 1000


def rule_key(rule: str) -> str:
    """A violation's rule with its particulars (ids, counts, bytes) blurred, for grouping."""
    return re.sub(r"\d+(?!xx)", "N", rule)[:90]  # "5xx" stays


class ServerErrors(logging.Handler):
    """Where the server failed: a client sees one 500 for every crash, this tells them
    apart (exception type and the innermost line of ours), and keeps tracebacks off the
    terminal."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.origins: Counter[str] = Counter()
        self.sample: dict[str, str] = {}  # one message per origin (they vary with the input)

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            frames = traceback.extract_tb(exc.__traceback__)
            ours = [f for f in frames if "/tui/" in f.filename] or frames
            where = f"{Path(ours[-1].filename).name}:{ours[-1].lineno}" if ours else "?"
            origin, message = f"{type(exc).__name__} at {where}", str(exc)[:80]
        else:  # the receiver's own one-line error: "storage failed, answering 500: X"
            origin, message = record.getMessage()[:100], ""
        self.origins[origin] += 1
        self.sample.setdefault(origin, message)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=10_000, help="requests to generate")
    parser.add_argument("--seed", type=int, help="Hypothesis seed (default: a random one)")
    args = parser.parse_args(argv)
    # Always seeded, so that any run can be repeated: print the seed a random run used.
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**32)
    # A rejected request is a warning and a crash a traceback: thousands of them would bury
    # the report. Rejections are not shown; errors are counted by origin.
    errors = ServerErrors()
    for name in ("aiohttp.server", "msgwatch"):
        logger = logging.getLogger(name)
        logger.setLevel(logging.ERROR)
        logger.addHandler(errors)
        logger.propagate = False

    groups: Counter[str] = Counter()
    shown: dict[str, list[Violation]] = {}
    requests = 0

    def report(request: FuzzRequest, violations: list[Violation]) -> None:
        nonlocal requests
        requests += 1
        for violation in violations:
            key = rule_key(violation.rule)
            groups[key] += 1
            shown.setdefault(key, [])
            if len(shown[key]) < SHOWN_PER_RULE:
                shown[key].append(violation)

    config: dict[str, Any] = dict(
        database=None,
        deadline=None,
        phases=[Phase.generate],  # violations are recorded, not raised: nothing to shrink
        suppress_health_check=list(HealthCheck),
    )
    with tempfile.TemporaryDirectory(prefix="msgwatch-fuzz-") as tmp:
        harness = Harness(Path(tmp) / "fuzz.db")
        with asyncio.Runner() as runner:
            runner.run(harness.start())
            started = time.perf_counter()
            try:
                for i, start in enumerate(range(0, args.examples, CHUNK)):
                    chunk = settings(max_examples=min(CHUNK, args.examples - start), **config)
                    run_examples(runner, harness, any_request(), chunk, report, seed=seed + i)
                elapsed = time.perf_counter() - started
                final = runner.run(harness.final_problems())
            finally:
                runner.run(harness.stop())

    sent = sum(harness.sent.values())
    print(f"seed {seed}: {requests} generated requests, {sent} HTTP requests sent")
    print(f"elapsed {elapsed:.1f} s ({sent / elapsed:.0f} requests/s)")
    print("by status:  " + "  ".join(f"{s}: {n}" for s, n in sorted(harness.statuses.items())))
    print("by signing: " + "  ".join(f"{k}: {n}" for k, n in sorted(harness.signings.items())))
    print("by target:  " + "  ".join(f"{t.value}: {n}" for t, n in sorted(harness.sent.items())))
    total = sum(groups.values()) + len(final)
    print(f"violations: {total}")
    for key, count in groups.most_common():
        print(f"\n  {count} x {key}")
        for violation in shown[key]:
            print("    " + str(violation).replace("\n", "\n    "))
    for problem in final:
        print(f"\n  after the run: {problem}")
    if errors.origins:
        print("\nserver-side errors by origin:")
        for origin, count in errors.origins.most_common():
            sample = errors.sample[origin]
            print(f"  {count} x {origin}" + (f"  (e.g. {sample!r})" if sample else ""))
    return 1 if total else 0


if __name__ == "__main__":  # the store's writer process is spawned: guard the entry point
    sys.exit(main())
