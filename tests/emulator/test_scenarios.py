"""Scenarios from presets and TOML files; bad files are one clear sentence."""

from pathlib import Path

import pytest

from tui.emulator.callbacks import parse_overrides
from tui.emulator.scenarios import PRESETS, Latency, ScenarioError, load_scenario


def test_presets_exist() -> None:
    for name in ("happy", "flaky-carrier", "chaos", "whatsapp"):
        assert load_scenario(name).name == name
    chaos = PRESETS["chaos"]
    assert chaos.out_of_order > 0 and chaos.duplicate > 0 and chaos.drop > 0


def test_toml_file_starting_from_a_preset(tmp_path: Path) -> None:
    path = tmp_path / "night.toml"
    path.write_text(
        'base = "chaos"\n'
        "delivered = 0.5\n"
        "send_latency = [0.1, 0.2]\n"
        "undelivered_codes = { 30003 = 3, 30005 = 1 }\n"
        "rate_limit_per_sender = 5\n"
    )
    scenario = load_scenario(str(path))
    assert scenario.name == "night"
    assert scenario.delivered == 0.5 and scenario.drop == PRESETS["chaos"].drop
    assert scenario.send_latency == Latency(0.1, 0.2)
    assert scenario.undelivered_codes == ((30003, 3.0), (30005, 1.0))
    assert scenario.rate_limit_per_sender == 5.0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("delivered = 1.5", "probability"),
        ("colour = 3", "Unknown scenario setting 'colour'"),
        ("send_latency = 3", r"\[low, high\]"),
        ("send_latency = [3, 1]", "low <= high"),
        ("failed_codes = { 30007 = 0 }", "positive weight"),
        ('base = "nope"', "base must be one of"),
        ("delivered = ", "not valid TOML"),
        ("delivered = true", "must be a number"),
    ],
)
def test_bad_scenario_files(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text + "\n")
    with pytest.raises(ScenarioError, match=message):
        load_scenario(str(path))


def test_unknown_name_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="No scenario 'nope'"):
        load_scenario("nope")
    with pytest.raises(ScenarioError, match="Cannot read"):
        load_scenario(str(tmp_path / "missing.toml"))


def test_connection_overrides_follow_the_documented_ranges() -> None:
    default = parse_overrides("")
    assert (default.retries, default.policy) == (1, frozenset({"ct"}))
    assert default.connect_timeout == 5.0 and default.read_timeout == 15.0
    custom = parse_overrides("ct=1000&rt=2500&rc=3&rp=5xx,rt&tt=9000")
    assert custom.connect_timeout == 1.0 and custom.read_timeout == 2.5
    assert custom.retries == 3 and custom.policy == frozenset({"5xx", "rt"})
    assert custom.total_timeout == 9.0
    clamped = parse_overrides("ct=1&rc=99&rt=nonsense")
    assert clamped.connect_timeout == 0.1 and clamped.retries == 5 and clamped.read_timeout == 15.0
