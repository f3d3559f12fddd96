"""The repeating background round: survives a failing round, wakes when poked, stops."""

import asyncio

from tui.services.background import Repeating


async def test_a_failing_round_does_not_stop_the_next_and_poke_wakes_it() -> None:
    rounds: list[int] = []
    ran = asyncio.Event()

    async def round_() -> float:
        rounds.append(len(rounds))
        ran.set()
        if len(rounds) == 1:
            raise RuntimeError("first round breaks")
        return 3600.0  # only a poke can start the next one within the test

    repeating = Repeating("test", round_, after_failure=0.0)
    repeating.start()
    async with asyncio.timeout(5):
        while len(rounds) < 2:  # the failure was followed by another round
            ran.clear()
            await ran.wait()
        ran.clear()
        repeating.poke()
        await ran.wait()
    assert len(rounds) == 3 and repeating.running
    await repeating.stop()
    assert not repeating.running
