"""From a received-routes event to its Verdict event: what a worker calls per event."""

from __future__ import annotations

from dataclasses import fields

from processors.received import RoutesChange, routes_change
from processors.validate.chain import validate
from processors.validate.client import ImportPolicy
from processors.validate.data import PolicyData
from processors.validate.reasons import Step
from schemas.events import (
    EventHeader,
    Position,
    ReceivedRoutes,
    ReceivedUpdates,
    Verdict,
    VerdictGroup,
)

# The verdict's header is built field by field: `dataclasses.replace` cost as much as the
# rest of judge() for a small batch. This fails at import if EventHeader gains a field.
assert [f.name for f in fields(EventHeader)] == [
    "producer_id",
    "seq",
    "event_time_us",
    "config_version",
], "judge() copies EventHeader field by field"


def judge(
    event: ReceivedRoutes | ReceivedUpdates | RoutesChange,
    position: Position,
    header: EventHeader,
    policy: ImportPolicy,
    data: PolicyData,
) -> Verdict | None:
    """The verdict on the routes an event announces; None when it only withdraws.

    One verdict per event, its groups in the order of the event's parts (the net change
    of :mod:`processors.received`). The verdict's id derives from the event's position,
    so a verdict written again after a crash is recognisably the same one; its header
    names the configuration version and its `datasets` the data-set versions used.
    """
    change = event if isinstance(event, RoutesChange) else routes_change(event)
    if not change.announced:
        return None
    session = change.session
    client = policy.for_peer(session.peer_address)
    if client is None:
        reason = Step.NOT_A_CLIENT.reason(
            f"{session.peer_address} is not a client in configuration {policy.version[:12]}"
        )
        groups: tuple[VerdictGroup, ...] = tuple(
            VerdictGroup(a.prefixes, False, (reason,)) for a in change.announced)
        refs = ()
    else:
        if len(change.announced) == 1:
            _seq, attributes, prefixes = change.announced[0]
            groups = validate(client, attributes, prefixes, data)
        else:  # once per part: a list extended, not a generator's frame per group
            found: list[VerdictGroup] = []
            for _seq, attributes, prefixes in change.announced:
                found += validate(client, attributes, prefixes, data)
            groups = tuple(found)
        refs = data.refs(client)
    return Verdict(
        EventHeader(header.producer_id, header.seq, header.event_time_us, policy.version),
        position.event_id(),
        position,
        session,
        groups,
        refs,
    )
