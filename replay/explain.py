"""``ixrs explain``: the story of one prefix for one client, up to a moment.

It answers "why did my prefix not reach AS Y?" from the log alone, with the workers' own
code, and reads only what can concern the prefix:

- the routes partition of the prefix, where every record whose bytes do not hold the
  prefix's text is skipped undecoded (an Avro string is its UTF-8 bytes); markers (sessions,
  speaker starts, data sets, configuration) are always applied. The events that remain go
  through a :class:`~processors.partition.PartitionProcessor` narrowed to the prefix: a
  route's verdict depends on its own prefix and attributes only, and a decision on its
  prefix's candidates only, so the answers are the ones the full partition gives;
- the client's partition of the sent topic, where only the messages whose bytes hold the
  prefix's NLRI encoding are decoded (the raw UPDATE is inside the record verbatim), each
  with its session's 4-octet-AS capability from the sessions topic, as
  :mod:`replay.adjout` reads them (a 2-octet client's AS_PATH is 2-octet on the wire).

The story: who announced or withdrew the prefix, when, with which attributes; each verdict
with its reasons and the data-set and configuration versions it was judged by; the
candidates at the moment in rank order, with whether this client may receive each and why
not; the decision step that settled what the client is sent; and every UPDATE that touched
the prefix on the client's session.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from ixrs import topics
from ixrs.config import Client
from processors.decide import decide
from processors.export import Offer, Peer, may_receive
from processors.partition import Output
from processors.views import ip_version, outcome_for, step_for
from replay.history import History
from replay.moment import Moment
from replay.rebuild import ROUTE_EVENTS, rebuild_partition
from replay.render import (
    attributes_json,
    peer_json,
    position_text,
    reasons_json,
    route_json,
    time_text,
)
from replay.source import LogSource
from replay.state import session_book
from schemas.decisions import per_prefix
from schemas.events import (
    DataSetMarker,
    Decision,
    Position,
    ReceivedRoutes,
    ReceivedUpdates,
    SentUpdate,
    SessionChange,
    SpeakerIncarnation,
    UpdatePart,
    Verdict,
)
from speaker.codec.decode import decode
from speaker.codec.messages import Update
from speaker.codec.nlri import encode_prefix, is_ipv6


@dataclass
class Story:
    prefix: str
    client: Client
    moment: Moment
    events: list[dict[str, Any]] = field(default_factory=list)  # in log order
    candidates: list[dict[str, Any]] = field(default_factory=list)  # in rank order
    outcome: dict[str, Any] = field(default_factory=dict)
    sent: list[dict[str, Any]] = field(default_factory=list)
    read: dict[str, int] = field(default_factory=dict)  # partition -> first offset not read

    def to_json(self) -> dict[str, Any]:
        return {"prefix": self.prefix, "client": {"asn": self.client.asn, "ip": self.client.ip},
                "at": self.moment.describe(), "events": self.events,
                "candidates": self.candidates, "outcome": self.outcome, "sent": self.sent,
                "offsets": self.read}


def explain(source: LogSource, moment: Moment, client: Client, prefix: str,
            history: History | None = None) -> Story:
    history = history or History(source)
    story = Story(prefix, client, moment)
    partition = topics.partition_for(prefix, source.partitions(topics.ROUTES))
    needle = prefix.encode()
    seen: dict[int, Any] = {}  # offset -> what the route events said of the prefix

    def keep(value: bytes, kind: type | None) -> bool:
        return kind not in ROUTE_EVENTS or needle in value

    def narrow(offset: int, event: Any) -> Any:
        if isinstance(event, ReceivedRoutes | ReceivedUpdates):
            narrowed = _narrowed(event, prefix)
            seen[offset] = narrowed
            return narrowed
        seen[offset] = event
        return event

    outputs: list[tuple[Position, Output]] = []
    rebuilt = rebuild_partition(source, history, partition, moment, keep=keep, narrow=narrow,
                                on_output=lambda position, out: outputs.append((position, out)))
    story.read[f"{topics.ROUTES.suffix}:{partition}"] = rebuilt.end
    routes_topic = topics.ROUTES.name(source.prefix)
    by_input: dict[int, list[Output]] = {}
    for position, out in outputs:
        by_input.setdefault(position.offset, []).append(out)
    for offset in sorted(o for o in seen if o < rebuilt.end):
        story.events += _told(Position(routes_topic, partition, offset), seen[offset], prefix,
                              by_input.get(offset, []))
    proc = rebuilt.processor
    peer = proc.export.peer(client.ip)
    _rank(story, list(proc.offers.get(prefix, {}).values()), peer, prefix)
    decision = proc.decisions.get(prefix)
    if peer is None:
        story.outcome = {"route": None, "step": "",
                         "why": "not a client in the configuration in force"}
    elif decision is None:
        story.outcome = {"route": None, "step": "no-candidate",
                         "why": "no accepted route for this prefix"}
    else:
        route, attributes = outcome_for(decision, peer)
        story.outcome = {"route": None if route is None else {
            "from": peer_json(route.session), "attributes": attributes_json(attributes)},
            "step": step_for(decision, peer)}
    _sent(story, source, moment, client.ip, prefix)
    return story


def _narrowed(event: ReceivedRoutes | ReceivedUpdates, prefix: str) -> ReceivedUpdates:
    """The event as if its UPDATEs had named this prefix alone."""
    parts = event.parts if isinstance(event, ReceivedUpdates) else (
        UpdatePart(event.update_seq, event.attributes, event.announced, event.withdrawn,
                   event.notes),)
    kept = []
    for part in parts:
        announced = tuple(p for p in part.announced if p == prefix)
        withdrawn = tuple(p for p in part.withdrawn if p == prefix)
        if announced or withdrawn:
            kept.append(replace(part, announced=announced, withdrawn=withdrawn))
    return ReceivedUpdates(event.header, event.session, tuple(kept))


def _told(position: Position, event: Any, prefix: str, outputs: list[Output]
          ) -> list[dict[str, Any]]:
    """What one event of the routes partition means for the prefix, and what it caused."""
    told: list[dict[str, Any]] = []
    base = {"at": time_text(event.header.event_time_us), "record": position_text(position)}
    if isinstance(event, ReceivedUpdates):
        for part in event.parts:
            if part.announced:
                told.append({**base, "event": "announced", "peer": peer_json(event.session),
                             "attributes": attributes_json(part.attributes)})
            if part.withdrawn:
                told.append({**base, "event": "withdrawn", "peer": peer_json(event.session)})
    elif isinstance(event, SessionChange):
        if not outputs:
            return []  # another peer's session: nothing of this prefix changed
        told.append({**base, "event": "session-down", "peer": peer_json(event.session),
                     "reason": event.reason})
    elif isinstance(event, SpeakerIncarnation):
        if not outputs:
            return []
        told.append({**base, "event": "speaker-restarted", "speaker": event.speaker_id})
    elif isinstance(event, DataSetMarker):
        told.append({**base, "event": "in-force", "kind": event.kind, "name": event.name,
                     "version": event.version})
    for out in outputs:
        for made in per_prefix(out.event):  # a pass's Decisions, prefix by prefix
            told.extend(_output(base, made, prefix))
    return told


def _output(base: dict[str, Any], event: Any, prefix: str) -> list[dict[str, Any]]:
    if isinstance(event, Verdict):
        told = []
        for group in event.groups:
            if prefix in group.prefixes:
                told.append({**base, "event": "verdict", "peer": peer_json(event.session),
                             "accepted": group.accepted, "reasons": reasons_json(group.reasons),
                             "config_version": event.header.config_version,
                             "datasets": [{"kind": d.kind, "name": d.name, "version": d.version}
                                          for d in event.datasets]})
        return told
    if isinstance(event, Decision) and event.prefix == prefix:
        return [{**base, "event": "decision", "best": route_json(event.best),
                 "step": event.step, "candidates": event.candidates,
                 "config_version": event.header.config_version}]
    return []


def _rank(story: Story, offers: list[Offer], peer: Peer | None, prefix: str) -> None:
    """The candidates in rank order, each with whether this client may receive it."""
    version = ip_version(prefix)
    for rank, offer in enumerate(decide(offers).ranked, 1):
        entry: dict[str, Any] = {"rank": rank, "from": peer_json(offer.route.session),
                                 "attributes": attributes_json(offer.route.attributes)}
        if peer is not None:
            entry["for_client"] = may_receive(peer, offer, version)
            if not entry["for_client"]:
                entry["why_not"] = _why_not(peer, offer, version)
        story.candidates.append(entry)


def _why_not(peer: Peer, offer: Offer, version: int) -> str:
    """Why may_receive() said no, in its own order of checks."""
    if version not in peer.families:
        return f"the client's session does not carry IPv{version}"
    if offer.peer_address == peer.ip:
        return "the client's own route"
    if peer.asn in offer.path_asns:
        return f"the client's ASN {peer.asn} is on the AS_PATH"
    if version in offer.blocked_in:
        return "no client may receive it (NO_EXPORT, NO_ADVERTISE or a blackhole rule)"
    if version in offer.blackhole_in and not peer.profile.receives_blackholes:
        return "a blackhole route, and the client does not take them"
    if peer.ip in offer.denied:
        return "a community says: do not announce to this client"
    return "a community says: do not announce to any client"


def _sent(story: Story, source: LogSource, moment: Moment, ip: str, prefix: str) -> None:
    """Every UPDATE on the client's session that touched the prefix."""
    partition = topics.partition_for(ip, source.partitions(topics.SENT))
    needle = encode_prefix(prefix, is_ipv6(prefix))
    name = topics.SENT.name(source.prefix)
    framing = source.framing
    book = session_book(source, moment)  # how each session was negotiated
    end = 0
    for offset, value in source.records(topics.SENT, partition):
        kind = framing.event_class(value)
        if needle not in value and b"borr" not in value and kind is SentUpdate:
            if not moment.admits(topics.SENT.suffix, partition, offset,
                                 framing.header(value).event_time_us):
                break
            end = offset + 1
            continue
        event = framing.decode(value)
        if not moment.includes(topics.SENT.suffix, partition, offset, event):
            break
        end = offset + 1
        if not isinstance(event, SentUpdate) or event.session.peer_address != ip:
            continue
        base = {"at": time_text(event.header.event_time_us),
                "record": position_text(Position(name, partition, offset)),
                "session": f"{event.session.epoch.incarnation[:8]}/{event.session.epoch.counter}",
                "caused_by": list(event.caused_by)}
        if event.kind != "update":
            if event.kind == "borr":
                story.sent.append({**base, "event": "route-refresh-begins"})
            continue
        # Read with the session's own 4-octet-AS capability, as replay.adjout does: a 2-octet
        # session's AS_PATH read as 4-octet is malformed, and RFC 7606 then turns the whole
        # announcement into a withdrawal (every route sent to a 2-octet client would be told
        # as "withdrawn", with no attributes).
        message = decode(event.raw, book.negotiated(event.session))
        if not isinstance(message, Update):
            continue
        if prefix in message.withdrawals():
            story.sent.append({**base, "event": "withdrawn"})
        for attributes, prefixes in message.announced():
            if prefix in prefixes:
                story.sent.append({**base, "event": "announced",
                                   "attributes": attributes_json(attributes)})
    story.read[f"{topics.SENT.suffix}:{partition}"] = end


def story_text(story: Story) -> str:
    """The story for a person: one line per event, then the candidates and the outcome."""
    c = story.client
    lines = [f"{story.prefix} for AS{c.asn} ({c.ip}), at {story.moment.describe()}", ""]
    lines.append("what happened:")
    if not story.events:
        lines.append("  nothing: no client announced this prefix before the moment")
    for e in story.events:
        lines.append("  " + _event_line(e))
    lines += ["", "candidates at the moment, best first:"]
    if not story.candidates:
        lines.append("  none")
    for cand in story.candidates:
        src = cand["from"]
        verdict = "may be sent" if cand.get("for_client", True) else \
            f"not for this client: {cand['why_not']}"
        lines.append(f"  {cand['rank']}. from AS{src['asn']} ({src['ip']}), AS_PATH "
                     f"{cand['attributes']['as_path']}: {verdict}")
    out = story.outcome
    lines += ["", "outcome for this client:"]
    if out.get("route"):
        src = out["route"]["from"]
        lines.append(f"  sent the route from AS{src['asn']} ({src['ip']}), settled by "
                     f"{out['step']}, AS_PATH {out['route']['attributes']['as_path']}")
    else:
        lines.append(f"  nothing to send ({out.get('why') or out.get('step')})")
    lines += ["", "sent on the client's session:"]
    if not story.sent:
        lines.append("  nothing")
    for s in story.sent:
        detail = f" AS_PATH {s['attributes']['as_path']}" if s["event"] == "announced" else ""
        lines.append(f"  {s['at']} {s['event']}{detail} ({s['record']})")
    return "\n".join(lines)


def _event_line(e: dict[str, Any]) -> str:
    head = f"{e['at']} "
    kind = e["event"]
    if kind in ("announced", "withdrawn"):
        peer = e["peer"]
        extra = f" AS_PATH {e['attributes']['as_path']}, next hop {e['attributes']['next_hop']}" \
            if kind == "announced" else ""
        return f"{head}AS{peer['asn']} ({peer['ip']}) {kind} it{extra} ({e['record']})"
    if kind == "verdict":
        peer = e["peer"]
        if e["accepted"] and not e["reasons"]:
            result = "accepted"
        else:
            names = ", ".join(r["name"] for r in e["reasons"])
            result = ("accepted but tagged: " if e["accepted"] else "filtered: ") + names
        sets = ", ".join(f"{d['kind']} {d['name']} {d['version'][:12]}" for d in e["datasets"]
                         if d["version"])  # a data set never loaded has no version
        return (f"{head}  verdict on the route from {peer['ip']}: {result} (configuration "
                f"{e['config_version'][:12]}" + (f"; {sets}" if sets else "") + ")")
    if kind == "decision":
        best = e["best"]
        who = f"best from {best['from']['ip']}" if best else "no best route: withdrawn"
        return f"{head}  decision: {who}, step {e['step']}, {e['candidates']} candidates"
    if kind == "session-down":
        return f"{head}session of {e['peer']['ip']} down ({e['reason']}): its routes leave"
    if kind == "speaker-restarted":
        return f"{head}speaker {e['speaker']} started again: its sessions' routes leave"
    if kind == "in-force" and e["kind"] == topics.CONFIG_MARKER:
        return f"{head}configuration {e['version'][:12]} comes into force"
    if kind == "in-force":
        return f"{head}{e['kind']} {e['name']} version {e['version'][:12]} comes into force"
    return f"{head}{kind}"
