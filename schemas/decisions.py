"""The decisions topic's records: per-prefix decisions batched into one event, and back.

A worker decides every prefix an input event changed. Writing each decision as its own
record made a table's million prefixes a million records: a header, a Kafka record, the
broker's storing it and the speaker's decoding it, each paid per prefix, were most of what
the decisions cost. A :class:`Decisions` event carries the decisions of one input event in
one partition (split after CHUNK prefixes, and in halves over the record size limit), with
the prefixes whose decisions are the same objects in one :class:`DecisionGroup`: the
decision memo gives the prefixes of a table that share their candidates one result, so a
group is encoded and decoded once for all of them.

Nothing is lost: each prefix's :class:`Decision` is rebuilt exactly by :func:`expand`, with
the id the worker gives it (``<input id>/<prefix>``), so readers (the speaker, verify, the
tests) see per-prefix decisions, whichever of the two record types the log holds.
Pure functions; no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from schemas.decoder import constructor
from schemas.events import Decision, DecisionGroup, Decisions

# Once per prefix of a table, on both sides: built by slot setters (schemas.decoder).
_new_decision = constructor(Decision)
_new_group = constructor(DecisionGroup)


# Decisions per record at most: a configuration change decides every prefix of a partition
# again in one pass, and its records are kept to sizes a consumer takes in its stride.
CHUNK = 2000
# A record over this is written as two: Kafka's default limit per record is 1 MB (the
# embedded broker's the same), and a pass with many clients' deltas per prefix can make one.
RECORD_LIMIT = 900_000


def batched(decisions: Sequence[Decision]) -> Decisions:
    """One event for decisions that share their header and input (one decision pass of a
    partition), grouped by result in order of first appearance: for decisions made one by
    one (tests, benchmarks; the partition processor groups its passes as it decides them).

    A group gathers prefixes whose best route and outcomes are the same objects, with the
    same step and candidate count: identity, not equality, so grouping costs a tuple per
    prefix, and decisions that are equal without being shared only make more groups."""
    first = decisions[0]
    groups: dict[tuple[int, str, int, int], tuple[Decision, list[str]]] = {}
    for decision in decisions:
        key = (id(decision.best), decision.step, decision.candidates, id(decision.outcomes))
        group = groups.get(key)
        if group is None:
            groups[key] = (decision, [decision.prefix])
        else:
            group[1].append(decision.prefix)
    return Decisions(first.header, first.input, tuple(
        _new_group(tuple(prefixes), d.best, d.step, d.candidates, d.outcomes)
        for d, prefixes in groups.values()))


def expand(event: Decisions) -> list[Decision]:
    """Every prefix's decision, group by group, in the order the event lists them."""
    header, position = event.header, event.input
    base = f"{position.topic}:{position.partition}:{position.offset}/"  # Position.event_id()
    return [_new_decision(header, base + prefix, position, prefix, g.best, g.step,
                          g.candidates, g.outcomes)
            for g in event.groups for prefix in g.prefixes]


def per_prefix(event: object) -> Sequence[object]:
    """A record's events as readers of decisions take them: a Decisions event's per-prefix
    decisions, anything else (a Decision of an older log too) as it is."""
    if type(event) is Decisions:
        return expand(event)
    return (event,)


def halves(event: Decisions) -> tuple[Decisions, Decisions]:
    """The event as two, each with about half its prefixes (for a record over the size
    limit); a single group is split by its prefixes."""
    groups = event.groups
    if len(groups) > 1:
        middle = len(groups) // 2
        return (Decisions(event.header, event.input, groups[:middle]),
                Decisions(event.header, event.input, groups[middle:]))
    (group,) = groups
    if len(group.prefixes) < 2:
        raise ValueError("one decision cannot be split")
    middle = len(group.prefixes) // 2
    first, second = group.prefixes[:middle], group.prefixes[middle:]
    return (Decisions(event.header, event.input, (_with_prefixes(group, first),)),
            Decisions(event.header, event.input, (_with_prefixes(group, second),)))


def fitted(event: Decisions, encode: Callable[[Decisions], bytes],
           limit: int = RECORD_LIMIT, chunk: int = CHUNK) -> list[tuple[Decisions, bytes]]:
    """The records of one pass, encoded: ``chunk`` prefixes each at most (the last fewer),
    each split in halves (and theirs) where over ``limit`` bytes; a single decision is
    given as it is, whatever its size (the broker then decides)."""
    return [fit for part in _chunks(event, chunk) for fit in _fitted(part, encode, limit)]


def _fitted(event: Decisions, encode: Callable[[Decisions], bytes], limit: int
            ) -> list[tuple[Decisions, bytes]]:
    value = encode(event)
    if len(value) <= limit or (len(event.groups) == 1 and len(event.groups[0].prefixes) == 1):
        return [(event, value)]
    one, two = halves(event)
    return _fitted(one, encode, limit) + _fitted(two, encode, limit)


def _chunks(event: Decisions, chunk: int) -> list[Decisions]:
    if prefix_count(event) <= chunk:
        return [event]  # a table's usual pass: one record
    out: list[Decisions] = []
    groups: list[DecisionGroup] = []
    room = chunk
    for group in event.groups:
        prefixes = group.prefixes
        while prefixes:
            taken, prefixes = prefixes[:room], prefixes[room:]
            groups.append(group if not prefixes and len(taken) == len(group.prefixes)
                          else _with_prefixes(group, taken))
            room -= len(taken)
            if not room:
                out.append(Decisions(event.header, event.input, tuple(groups)))
                groups, room = [], chunk
    if groups:
        out.append(Decisions(event.header, event.input, tuple(groups)))
    return out


def _with_prefixes(group: DecisionGroup, prefixes: tuple[str, ...]) -> DecisionGroup:
    return _new_group(prefixes, group.best, group.step, group.candidates, group.outcomes)


def prefix_count(event: Decisions) -> int:
    return sum(len(g.prefixes) for g in event.groups)
