"""From a ReceivedRoutes event to its Verdict event: what a worker calls per event."""

from __future__ import annotations

from dataclasses import fields

from processors.validate.chain import validate
from processors.validate.client import ImportPolicy
from processors.validate.data import PolicyData
from processors.validate.reasons import Step
from schemas.events import EventHeader, Position, ReceivedRoutes, Verdict, VerdictGroup

# The verdict's header is built field by field: `dataclasses.replace` cost as much as the
# rest of judge() for a small batch. This fails at import if EventHeader gains a field.
assert [f.name for f in fields(EventHeader)] == [
    "producer_id",
    "seq",
    "event_time_us",
    "config_version",
], "judge() copies EventHeader field by field"


def judge(
    event: ReceivedRoutes,
    position: Position,
    header: EventHeader,
    policy: ImportPolicy,
    data: PolicyData,
) -> Verdict | None:
    """The verdict on the routes an event announces; None when it only withdraws.

    The verdict's id derives from the event's position, so a verdict written again after a
    crash is recognisably the same one; its header names the configuration version and its
    `datasets` the data-set versions used.
    """
    if event.attributes is None or not event.announced:
        return None
    client = policy.for_peer(event.session.peer_address)
    if client is None:
        reason = Step.NOT_A_CLIENT.reason(
            f"{event.session.peer_address} is not a client in configuration {policy.version[:12]}"
        )
        groups: tuple[VerdictGroup, ...] = (VerdictGroup(event.announced, False, (reason,)),)
        refs = ()
    else:
        groups = validate(client, event.attributes, event.announced, data)
        refs = data.refs(client)
    return Verdict(
        EventHeader(header.producer_id, header.seq, header.event_time_us, policy.version),
        position.event_id(),
        position,
        event.session,
        groups,
        refs,
    )
