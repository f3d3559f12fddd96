"""One benchmark report: runs the benchmarks of every issue and writes docs/BENCHMARKS.md.

    python bench/report.py                 # everything, full size (about an hour)
    python bench/report.py --only crash,soak
    python bench/report.py --quick         # smaller sizes, to check that it all runs

Each benchmark runs in its own process, one after the other (the machine has two cores:
two at once would measure each other). `bench/console.py` writes its own section; for the
others this script puts the command, the date and what the benchmark printed (its tables,
with the anchors it measured in the same run) between markers in docs/BENCHMARKS.md, under
a header naming the machine. A benchmark that fails is reported as failed, with its exit
status and the end of its output: the report never shows a stale figure as a fresh one.
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "BENCHMARKS.md"
PY = sys.executable
TAIL_LINES = 60  # of a failed run's output


@dataclass(frozen=True)
class Bench:
    name: str
    title: str
    full: list[str]
    quick: list[str]
    writes_doc: bool = False  # bench/console.py keeps its own section up to date
    timeout: float = 3600


BENCHES = (
    Bench("store", "Store (`bench/store.py`)", ["bench/store.py"],
          ["bench/store.py", "--messages", "100000"]),
    Bench("ingest", "Receiver (`bench/ingest.py`)", ["bench/ingest.py"],
          ["bench/ingest.py", "--seconds", "5", "--rounds", "1"]),
    Bench("console", "Console (`bench/console.py`)", ["bench/console.py"],
          ["bench/console.py", "--quick", "--no-doc"], writes_doc=True),
    Bench("sweep", "Console capacity by rate (`bench/console_sweep.py`)",
          ["bench/console_sweep.py"],
          ["bench/console_sweep.py", "--rows", "100000", "--rates", "500,1000", "--rounds",
           "1", "--seconds", "3", "--key-seconds", "2"]),
    Bench("soak", "Soak (`bench/soak.py`)", ["bench/soak.py", "--minutes", "10"],
          ["bench/soak.py", "--minutes", "1"]),
    Bench("crash", "Crash durability (`bench/crash.py`)", ["bench/crash.py", "--kills", "12"],
          ["bench/crash.py", "--kills", "3"]),
    Bench("fuzz", "Receiver fuzzing (`bench/fuzz.py`)", ["bench/fuzz.py", "--examples", "10000"],
          ["bench/fuzz.py", "--examples", "1000"]),
)  # fmt: skip


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kib / 1024 / 1024:.1f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return (
        f"{os.cpu_count()} x {model}{memory}; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"
    )


def markers(name: str) -> tuple[str, str]:
    return (
        f"<!-- bench/report.py: {name} from here -->",
        f"<!-- bench/report.py: {name} to here -->",
    )


def run(bench: Bench, quick: bool) -> tuple[str, int, float, str]:
    """(command line, exit status, seconds, output) of one benchmark."""
    argv = bench.quick if quick else bench.full
    command = "python " + shlex.join(argv)
    print(f"# {command}", flush=True)
    started = time.monotonic()
    try:
        done = subprocess.run(
            [PY, *argv], cwd=ROOT, capture_output=True, text=True, timeout=bench.timeout
        )
        status, output = done.returncode, done.stdout + done.stderr
    except subprocess.TimeoutExpired as exc:
        status = -1
        output = f"timed out after {bench.timeout:.0f} s\n{exc.stdout or ''}"
    elapsed = time.monotonic() - started
    print(f"#   exit {status} after {elapsed:.0f} s", flush=True)
    return command, status, elapsed, output


def section(bench: Bench, command: str, status: int, elapsed: float, output: str) -> str:
    when = time.strftime("%Y-%m-%d %H:%M %Z")
    lines = [f"Latest run: `{command}`, {when}, {elapsed:.0f} s."]
    if status != 0:
        tail = "\n".join(output.rstrip().splitlines()[-TAIL_LINES:])
        lines += [f"**The run failed (exit {status}).** Its last lines:", "", "```", tail, "```"]
    else:
        lines += ["", "```", readable(output), "```"]
    return "\n".join(lines)


def readable(output: str) -> str:
    """The output without a leading JSON dump (bench/soak.py prints its raw figures first,
    then the tables; the raw ones are in its --out file)."""
    text = output.strip()
    if text.startswith("{"):
        end = text.find("\n}\n")
        if end != -1:
            text = text[end + 3 :].strip()
    return text


def write(doc: str, name: str, title: str, body: str) -> str:
    begin, end = markers(name)
    block = f"{begin}\n{body}\n{end}"
    if begin in doc and end in doc:
        head, rest = doc.split(begin, 1)
        return head + block + rest.split(end, 1)[1]
    return doc.rstrip() + f"\n\n## {title}: latest report\n\n{block}\n"


def write_header(doc: str) -> str:
    begin, end = markers("machine")
    body = f"Last report: {time.strftime('%Y-%m-%d')} on {machine()}."
    block = f"{begin}\n{body}\n{end}"
    if begin in doc and end in doc:
        head, rest = doc.split(begin, 1)
        return head + block + rest.split(end, 1)[1]
    first, _, rest = doc.partition("\n\n")
    return f"{first}\n\n{block}\n\n{rest}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes (a smoke test)")
    ap.add_argument("--only", default="", help="comma-separated names: " +
                    ",".join(b.name for b in BENCHES))  # fmt: skip
    ap.add_argument("--no-doc", action="store_true", help="print only")
    args = ap.parse_args()
    wanted = {n.strip() for n in args.only.split(",") if n.strip()}
    unknown = wanted - {b.name for b in BENCHES}
    if unknown:
        sys.exit(f"bench/report.py: unknown benchmark(s) {', '.join(sorted(unknown))}")
    failed = []
    for bench in BENCHES:
        if wanted and bench.name not in wanted:
            continue
        if not (ROOT / bench.full[0]).exists():
            print(f"# {bench.full[0]} is missing: skipped", flush=True)
            continue
        command, status, elapsed, output = run(bench, args.quick)
        if status != 0:
            failed.append(bench.name)
        if args.no_doc:
            print(output)
            continue
        doc = DOC.read_text()
        if not bench.writes_doc or status != 0:
            doc = write(doc, bench.name, bench.title, section(bench, command, status, elapsed,
                                                               output))  # fmt: skip
        DOC.write_text(write_header(doc))
    if failed:
        sys.exit(f"bench/report.py: failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
