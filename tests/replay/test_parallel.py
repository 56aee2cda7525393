"""Replay's processes (replay.parallel) and the merge of their sorted shares (replay.state):
results come back whole and in share order, and the merged lines are in key order."""

from __future__ import annotations

import random

import pytest

from replay import parallel
from replay.progress import Progress
from replay.state import _blocks, _merged, _sorted

Big = tuple[list[int], bytes]


def _text(partitions: list[int]) -> bytes:
    # megabytes: more than a pipe holds, so a child writing it down a pipe would wait
    return f"é{partitions[0]}\n".encode() * 200_000


def _big(partitions: list[int], _progress: Progress | None) -> Big:
    return partitions, _text(partitions)


def test_results_come_back_whole_in_share_order() -> None:
    results, aside = parallel.run(_big, list(range(5)), 2, None, meanwhile=lambda: "aside")
    assert results == [([0, 2, 4], _text([0])), ([1, 3], _text([1]))]
    assert aside == "aside"


def test_one_job_runs_here() -> None:
    assert parallel.run(_big, [0, 1], 1, None) == ([([0, 1], _text([0]))], None)


def _fails(partitions: list[int], _progress: Progress | None) -> int:
    if 1 in partitions:
        raise ValueError("partition 1 is broken")
    return 0


def test_a_child_error_is_raised_in_the_parent() -> None:
    with pytest.raises(RuntimeError, match=r"partitions \[1\]: ValueError: partition 1 is broken"):
        parallel.run(_fails, [0, 1], 2, None)


def test_shares_merge_in_key_order() -> None:
    rng = random.Random(7)
    keys = list({rng.getrandbits(137) for _ in range(3000)})
    rows = [(key, f'{{"key": {key}, "x": "ü"}}') for key in keys]
    shares = [rows[0::3], rows[1::3], rows[2::3], []]  # as dealt to processes, one with none
    merged = _merged([_sorted(share) for share in shares])
    assert merged == [line.encode() for _key, line in sorted(rows)]
    assert _merged([_sorted([])]) == []
    assert _merged([_sorted(rows[:1]), _sorted([])]) == [rows[0][1].encode()]


def test_blocks_hold_every_line_with_its_newline() -> None:
    lines = [f"line {i} ü" for i in range(7)]
    expected = "".join(line + "\n" for line in lines).encode()
    assert b"".join(_blocks([line.encode() for line in lines], size=3)) == expected
    assert b"".join(_blocks(iter(lines), size=3)) == expected
    assert list(_blocks([], size=3)) == [] and list(_blocks(iter([]), size=3)) == []
