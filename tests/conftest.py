"""Shared by every test."""

import pytest


@pytest.fixture(autouse=True)
def no_region(monkeypatch: pytest.MonkeyPatch) -> None:
    # TWILIO_REGION/EDGE in a developer's shell rewrite the SDK's host (127.0.0.1 ->
    # 127.ie1.0.1); tests talk to the local Twilio only. A test that wants them sets them.
    monkeypatch.delenv("TWILIO_REGION", raising=False)
    monkeypatch.delenv("TWILIO_EDGE", raising=False)
