"""How the simulated carrier behaves: delivery odds, error mixes, latencies, and the faults
that make reconciliation worth having (out-of-order, duplicate and dropped callbacks).

A scenario is a named preset or a TOML file whose keys are the fields below, e.g.

    delivered = 0.8
    out_of_order = 0.2
    send_latency = [0.5, 3.0]          # seconds, uniform, before the speed factor
    undelivered_codes = { 30003 = 2, 30005 = 1 }   # relative weights
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

Mix = tuple[tuple[int, float], ...]


class ScenarioError(ValueError):
    """A scenario name or file that cannot be used; the message says why."""


@dataclass(frozen=True, slots=True)
class Latency:
    low: float
    high: float

    def __post_init__(self) -> None:
        if not 0 <= self.low <= self.high:
            raise ScenarioError(f"A latency needs 0 <= low <= high, got [{self.low}, {self.high}].")


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    delivered: float = 0.95  # share of messages that end delivered
    failed_share: float = 0.3  # of the rest, how many fail before `sent` (vs undelivered)
    undelivered_codes: Mix = ((30003, 4.0), (30005, 2.0), (30006, 2.0), (30008, 1.0))
    failed_codes: Mix = ((30007, 3.0), (30034, 2.0), (30032, 1.0))
    queue_latency: Latency = Latency(0.2, 1.0)  # accepted/scheduled -> queued
    send_latency: Latency = Latency(0.3, 1.5)  # queued -> sent
    deliver_latency: Latency = Latency(0.5, 3.0)  # sent -> delivered/undelivered
    read: float = 0.0  # WhatsApp recipients who read it (EventType=READ)
    read_latency: Latency = Latency(1.0, 5.0)
    out_of_order: float = 0.0  # a callback overtaken by the next one
    duplicate: float = 0.0  # a callback delivered twice (same idempotency token)
    drop: float = 0.0  # a callback never sent (the resource still moves on)
    reply: float = 0.0  # recipients who answer after delivery
    stop_share: float = 0.0  # of the replies, how many are STOP (opt-out: 21610 after)
    reply_latency: Latency = Latency(1.0, 6.0)
    rate_limit_per_sender: float | None = None  # creates/s before 429 / 20429

    def __post_init__(self) -> None:
        for name in ("delivered", "failed_share", "read", "out_of_order", "duplicate", "drop",
                     "reply", "stop_share"):  # fmt: skip
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ScenarioError(f"{name} is a probability (0 to 1), got {value}.")
        for name in ("undelivered_codes", "failed_codes"):
            mix = getattr(self, name)
            if not mix or any(w < 0 for _, w in mix) or sum(w for _, w in mix) <= 0:
                raise ScenarioError(f"{name} needs at least one code with a positive weight.")


PRESETS: dict[str, Scenario] = {
    "happy": Scenario(name="happy", delivered=0.97, reply=0.05),
    "flaky-carrier": Scenario(
        name="flaky-carrier",
        delivered=0.7,
        failed_share=0.25,
        send_latency=Latency(0.5, 4.0),
        deliver_latency=Latency(1.0, 12.0),
        reply=0.05,
        stop_share=0.3,
    ),
    "chaos": Scenario(
        name="chaos",
        delivered=0.8,
        out_of_order=0.3,
        duplicate=0.2,
        drop=0.1,
        reply=0.1,
        stop_share=0.2,
        deliver_latency=Latency(0.2, 2.0),
    ),
    "whatsapp": Scenario(
        name="whatsapp",
        delivered=0.95,
        failed_codes=((63016, 1.0), (63003, 1.0)),
        read=0.85,
        reply=0.2,
    ),
}


def _latency(name: str, raw: Any) -> Latency:
    if isinstance(raw, list) and len(raw) == 2 and all(isinstance(x, int | float) for x in raw):
        return Latency(float(raw[0]), float(raw[1]))
    raise ScenarioError(f"{name} must be [low, high] in seconds, got {raw!r}.")


def _mix(name: str, raw: Any) -> Mix:
    if not isinstance(raw, dict):
        raise ScenarioError(f"{name} must be a table of code = weight, got {raw!r}.")
    try:
        return tuple((int(code), float(weight)) for code, weight in raw.items())
    except (TypeError, ValueError):
        raise ScenarioError(f"{name} must map error codes to numbers, got {raw!r}.") from None


def from_mapping(data: dict[str, Any], default_name: str) -> Scenario:
    known = {f.name: f for f in fields(Scenario)}
    base = PRESETS.get(str(data.get("base", "happy")))
    if base is None:
        raise ScenarioError(f"base must be one of {', '.join(PRESETS)}.")
    changes: dict[str, Any] = {"name": str(data.get("name", default_name))}
    for key, raw in data.items():
        if key in ("name", "base"):
            continue
        if key not in known:
            raise ScenarioError(f"Unknown scenario setting {key!r}; known: {', '.join(known)}.")
        if key.endswith("_latency"):
            changes[key] = _latency(key, raw)
        elif key.endswith("_codes"):
            changes[key] = _mix(key, raw)
        elif key == "rate_limit_per_sender":
            changes[key] = None if raw in (None, 0) else float(raw)
        elif isinstance(raw, int | float) and not isinstance(raw, bool):
            changes[key] = float(raw)
        else:
            raise ScenarioError(f"{key} must be a number, got {raw!r}.")
    return replace(base, **changes)


def load_scenario(name_or_path: str) -> Scenario:
    """A preset by name, or a TOML file (optionally `base = "<preset>"` to start from)."""
    if name_or_path in PRESETS:
        return PRESETS[name_or_path]
    path = Path(name_or_path)
    if not path.suffix == ".toml":
        raise ScenarioError(
            f"No scenario {name_or_path!r}: use one of {', '.join(PRESETS)} or a .toml file."
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ScenarioError(f"Cannot read {path}: {exc.strerror}.") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path} is not valid TOML: {exc}.") from None
    return from_mapping(data, default_name=path.stem)
