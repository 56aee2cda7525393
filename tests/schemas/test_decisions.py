"""Decisions events: a decision pass as records, and back to per-prefix decisions."""

from __future__ import annotations

import pytest

from schemas import codec
from schemas.attributes import Attributes, Origin
from schemas.decisions import CHUNK, batched, expand, fitted, halves, per_prefix
from schemas.events import (
    ClientOutcome,
    Decision,
    Decisions,
    Epoch,
    EventHeader,
    Position,
    Route,
    Session,
)

HEADER = EventHeader("worker-1", 7, 1_700_000_000_000_000, "cfg1")
POSITION = Position("ixrs.routes", 3, 41)
SESSION = Session("speaker-1", "192.0.2.11", 65001, Epoch("inc", 1))
A = Route(SESSION, Attributes(origin=Origin.IGP, next_hop="192.0.2.11"))
B = Route(SESSION, Attributes(origin=Origin.EGP, next_hop="192.0.2.11"))
OUT = (ClientOutcome("192.0.2.22", None, "filtered"),)


def decision(prefix: str, best: Route | None, outcomes: tuple[ClientOutcome, ...] = (),
             header: EventHeader = HEADER, position: Position = POSITION) -> Decision:
    return Decision(header, f"{position.event_id()}/{prefix}", position, prefix, best,
                    "" if best is None else "lowest-med", 1 if best else 0, outcomes)


def test_a_batch_expands_to_the_decisions_it_was_made_of() -> None:
    made = [decision("10.0.0.0/24", A), decision("10.0.1.0/24", B), decision("10.0.2.0/24", A),
            decision("10.0.3.0/24", A, OUT), decision("10.0.4.0/24", None)]
    event = batched(made)
    # prefixes sharing best route, step, count and outcomes (the same objects) share a group
    assert [g.prefixes for g in event.groups] == [
        ("10.0.0.0/24", "10.0.2.0/24"), ("10.0.1.0/24",), ("10.0.3.0/24",), ("10.0.4.0/24",)]
    back = expand(event)
    assert sorted(back, key=lambda d: d.prefix) == made
    # and through the wire: each decision keeps the id the worker gave it
    decoded = codec.decode(codec.encode(event))
    assert isinstance(decoded, Decisions)
    assert sorted(expand(decoded), key=lambda d: d.prefix) == made


def test_equal_results_that_are_not_shared_make_separate_groups() -> None:
    twin = Route(SESSION, Attributes(origin=Origin.IGP, next_hop="192.0.2.11"))
    assert twin == A and twin is not A
    event = batched([decision("10.0.0.0/24", A), decision("10.0.1.0/24", twin)])
    assert len(event.groups) == 2
    assert [d.best for d in expand(event)] == [A, twin]


def test_a_pass_is_written_in_chunks() -> None:
    made = [decision(f"10.0.{n}.0/24", A if n < 3 else B) for n in range(5)]
    event = batched(made)
    parts = fitted(event, codec.encode, chunk=2)
    assert [[d.prefix for d in expand(part)] for part, _value in parts] == [
        ["10.0.0.0/24", "10.0.1.0/24"], ["10.0.2.0/24", "10.0.3.0/24"], ["10.0.4.0/24"]]
    assert all(part.input is POSITION and part.header is HEADER for part, _value in parts)
    assert [d for part, _value in parts for d in expand(part)] == expand(event)
    assert all(codec.decode(value) == part for part, value in parts)
    assert fitted(event, codec.encode) == [(event, codec.encode(event))] and CHUNK >= 1000


def test_halves_keep_every_decision() -> None:
    made = [decision(f"10.0.{n}.0/24", A if n % 3 else B) for n in range(7)]
    event = batched(made)
    one, two = halves(event)
    assert expand(one) + expand(two) == expand(event)
    single = batched([decision(f"10.0.{n}.0/24", A) for n in range(5)])
    one, two = halves(single)
    assert [len(e.groups[0].prefixes) for e in (one, two)] == [2, 3]
    assert expand(one) + expand(two) == expand(single)
    with pytest.raises(ValueError):
        halves(batched([decision("10.0.0.0/24", A)]))


def test_per_prefix_reads_both_record_types() -> None:
    alone = decision("10.0.0.0/24", A)
    assert per_prefix(alone) == (alone,)
    assert per_prefix(batched([alone])) == [alone]
    assert per_prefix(HEADER) == (HEADER,)


def test_a_record_over_the_limit_is_written_as_halves_that_fit() -> None:
    made = [decision(f"10.0.{n}.0/24", A if n % 2 else B, OUT if n % 5 == 0 else ())
            for n in range(40)]
    event = batched(made)
    whole = len(codec.encode(event))
    parts = fitted(event, codec.encode, whole // 3)
    assert len(parts) >= 3
    assert all(len(value) <= whole // 3 for _part, value in parts)
    assert all(codec.decode(value) == part for part, value in parts)
    assert [d for part, _v in parts for d in expand(part)] == expand(event)
    assert fitted(event, codec.encode, whole) == [(event, codec.encode(event))]
    # one decision is never split, however large
    alone = batched([decision("10.0.0.0/24", A)])
    assert fitted(alone, codec.encode, 10) == [(alone, codec.encode(alone))]
