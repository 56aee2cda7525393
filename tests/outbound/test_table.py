"""The decisions in force: latest per prefix, removals, and re-emissions as no-ops."""

from __future__ import annotations

from dataclasses import replace

from schemas.events import ClientOutcome, Position
from speaker.outbound import DecisionTable
from tests.decide.build import route
from tests.outbound.build import PREFIX4, TOPIC, A, B, Feed, make_policy

POLICY = make_policy()
OTHER = "198.51.100.0/24"


def test_latest_decision_per_prefix_and_removal() -> None:
    feed, table = Feed(POLICY), DecisionTable()
    first = feed.decide(PREFIX4, [route(A)])
    second = feed.decide(PREFIX4, [route(A), route(B)])
    assert table.apply(first) and table.apply(second)
    assert table.get(PREFIX4) is second and len(table) == 1
    assert table.apply(feed.decide(PREFIX4, []))  # no best, no delta: withdrawn
    assert table.get(PREFIX4) is None and len(table) == 0


def test_a_decision_with_deltas_but_no_best_stays() -> None:
    feed, table = Feed(POLICY), DecisionTable()
    decision = feed.made(PREFIX4, None, (ClientOutcome(A, route(B)),))
    table.apply(decision)
    assert table.get(PREFIX4) is decision
    assert table.deltas_for(A) == {PREFIX4}


def test_applying_a_decision_twice_is_a_no_op() -> None:
    feed, table = Feed(POLICY), DecisionTable()
    decision = feed.decide(PREFIX4, [route(A)])
    assert table.apply(decision)
    assert not table.apply(decision)
    assert table.duplicates == 1 and table.get(PREFIX4) is decision


def test_a_replayed_older_decision_after_a_newer_one_is_ignored() -> None:
    # A worker crashed after emitting D1 (announce) and D2 (withdraw), and emits both again.
    feed, table = Feed(POLICY), DecisionTable()
    d1 = feed.decide(PREFIX4, [route(A)])
    other = feed.decide(OTHER, [route(B)])
    d2 = feed.decide(PREFIX4, [])
    for decision in (d1, other, d2):
        assert table.apply(decision)
    for decision in (d1, other, d2):
        assert not table.apply(decision)
    assert table.get(PREFIX4) is None and table.get(OTHER) is other


def test_decisions_of_one_input_for_several_prefixes_all_count() -> None:
    feed, table = Feed(POLICY), DecisionTable()
    d1 = feed.decide(PREFIX4, [route(A)])
    # the same input event decided a second prefix: same position, another prefix
    d2 = replace(d1, event_id=f"{d1.input.event_id()}/{OTHER}", prefix=OTHER)
    assert table.apply(d1) and table.apply(d2) and not table.apply(d2)
    assert len(table) == 2


def test_partitions_are_independent() -> None:
    table = DecisionTable()
    left, right = Feed(POLICY, partition=0, offset=100), Feed(POLICY, partition=1)
    assert table.apply(left.decide(PREFIX4, [route(A)]))
    assert table.apply(right.decide(OTHER, [route(B)]))  # offset 1 < 101, other partition
    assert len(table) == 2
    # a re-emission in partition 1 is still one
    assert not table.apply(replace(right.made(OTHER, None), input=Position(TOPIC, 1, 1)))
    assert table.get(OTHER) is not None


def test_the_delta_index_follows_the_decision_in_force() -> None:
    feed, table = Feed(POLICY), DecisionTable()
    table.apply(feed.decide(PREFIX4, [route(A), route(B, 15169)]))
    assert table.deltas_for(A) == {PREFIX4}  # A may not have its own route back
    table.apply(feed.decide(PREFIX4, [route(B, 15169)]))
    assert table.deltas_for(A) == frozenset()
    assert table.deltas_for(B) == {PREFIX4}
    table.apply(feed.decide(PREFIX4, []))
    assert table.deltas_for(B) == frozenset()


def test_the_input_of_the_decision_before_is_found_by_identity_and_still_ages() -> None:
    # The decoder gives the decisions of one input one Position object, which the table
    # recognises without a lookup; an older input that comes back is still a re-emission.
    feed, table = Feed(POLICY), DecisionTable()
    d1 = feed.decide(PREFIX4, [route(A)])
    same_input = replace(d1, event_id=f"{d1.input.event_id()}/{OTHER}", prefix=OTHER)
    assert table.apply(d1) and table.apply(same_input)
    assert not table.apply(same_input) and not table.apply(d1)
    newer = feed.decide(PREFIX4, [route(B)])
    assert newer.input.offset > d1.input.offset
    assert table.apply(newer)
    assert not table.apply(replace(d1, input=d1.input))  # the older Position object
    assert not table.apply(replace(d1, input=Position(TOPIC, d1.input.partition,
                                                      d1.input.offset)))  # an equal one
    assert table.get(PREFIX4) is newer


def test_a_pass_split_over_two_records_counts_whole() -> None:
    # A Decisions record over the size limit is written as two (schemas.decisions.fitted):
    # each decodes to its own Position object for the same input, and the second record's
    # prefixes are new decisions, not re-emissions; a re-read of either one is.
    feed, table = Feed(POLICY), DecisionTable()
    first = feed.decide(PREFIX4, [route(A)])
    position = first.input
    again = Position(position.topic, position.partition, position.offset)
    assert again == position and again is not position
    second = replace(first, event_id=f"{position.event_id()}/{OTHER}", input=again,
                     prefix=OTHER)
    assert table.apply(first) and table.apply(second)
    assert not table.apply(replace(first, input=again)) and not table.apply(second)
    assert table.get(OTHER) is second and table.duplicates == 2
