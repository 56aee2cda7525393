"""When the worker saves its state: on the save interval, put off while it is loaded."""

from __future__ import annotations

import pytest

from processors.worker import BEHIND_FACTOR, BUSY_SHARE, Load, save_due


def test_a_save_is_due_after_the_interval_and_put_off_while_loaded() -> None:
    assert not save_due(29.9, 30.0, loaded=False)
    assert save_due(30.0, 30.0, loaded=False)
    assert not save_due(30.0 * BEHIND_FACTOR - 0.1, 30.0, loaded=True)
    assert save_due(30.0 * BEHIND_FACTOR, 30.0, loaded=True)  # put off, never skipped


def test_load_is_the_share_of_the_window_spent_working() -> None:
    load = Load(window=5.0)
    assert load.share(100.0) == 0.0
    # a table arriving: every batch of the last seconds took most of its wall time
    for second in range(10):
        load.add(100.0 + second, 0.8)
    assert load.share(109.0) == pytest.approx(0.8 * 5 / 5.0)  # only the last 5 s count
    assert load.share(109.0) > BUSY_SHARE
    # the table is in: batches of churn, a few milliseconds each
    for tick in range(10):
        load.add(110.0 + tick, 0.003)
    assert load.share(119.0) == pytest.approx(0.003 * 5 / 5.0)
    assert load.share(119.0) < BUSY_SHARE
    assert load.share(1000.0) == 0.0  # and nothing once all of it is older than the window
