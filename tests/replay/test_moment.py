"""What a moment is: a cut of each partition in log order (replay/moment.py)."""

from __future__ import annotations

import pytest

from ixrs.errors import UsageError
from replay.moment import Moment, cut, parse_offsets
from schemas.events import EventHeader


class Stamped:
    def __init__(self, when: int) -> None:
        self.header = EventHeader("p", 0, when)


def test_a_time_cuts_at_the_first_later_stamp_not_by_selection() -> None:
    # two producers whose stamps interleave: 30 is appended after 40
    log = [(0, Stamped(10)), (1, Stamped(40)), (2, Stamped(30)), (3, Stamped(20))]
    assert [o for o, _e in cut(Moment(at_us=35), "routes", 0, log)] == [0]
    assert [o for o, _e in cut(Moment(at_us=40), "routes", 0, log)] == [0, 1, 2, 3]
    assert [o for o, _e in cut(Moment(at_us=5), "routes", 0, log)] == []


def test_offsets_cut_before_the_offset_and_leave_other_partitions_whole() -> None:
    moment = parse_offsets("ixrs.routes:3:2, sent:0:1")
    log = [(o, Stamped(10 ** 18)) for o in range(5)]
    assert [o for o, _e in cut(moment, "routes", 3, log)] == [0, 1]
    assert [o for o, _e in cut(moment, "sent", 0, log)] == [0]
    assert [o for o, _e in cut(moment, "routes", 2, log)] == [0, 1, 2, 3, 4]
    assert moment.describe() == "routes:3:2,sent:0:1"


@pytest.mark.parametrize("text", ["routes:3", "routes:x:1", "nosuch:1:2", ",", "routes:1:-1"])
def test_bad_offsets_are_refused_with_the_item(text: str) -> None:
    with pytest.raises(UsageError, match="--offsets"):
        parse_offsets(text)
