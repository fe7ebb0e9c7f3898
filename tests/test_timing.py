"""The update's phase timer: a nested phase's seconds are its own, and phases add up to the wall."""

import time

from harness.loop.timing import Stopwatch


def test_a_nested_phase_is_taken_out_of_the_phase_around_it():
    watch = Stopwatch()
    started = time.perf_counter()
    with watch.phase("generate"):
        time.sleep(0.02)
        with watch.phase("reward"):
            time.sleep(0.03)
        with watch.phase("reward"):
            time.sleep(0.01)
    wall = time.perf_counter() - started
    assert 0.04 <= watch.seconds["reward"] < 0.04 + 0.03
    assert 0.02 <= watch.seconds["generate"] < 0.02 + 0.03
    assert watch.total() <= wall
    assert watch.total() >= wall - 0.005


def test_the_row_lists_the_phases_in_the_order_asked_with_zero_for_a_phase_never_entered():
    watch = Stopwatch()
    with watch.phase("update"):
        pass
    row = watch.row(("generate", "update"))
    assert list(row) == ["time/generate", "time/update"]
    assert row["time/generate"] == 0.0 and row["time/update"] >= 0.0
