"""The speaker's outbound core: decisions in, each client's UPDATEs out. Sans-IO and pure.

Like the codec (and h11), nothing here touches a socket, a clock or Kafka: the transport
feeds it decisions and session events and gets bytes back, with what caused them, so the
same calls give the same bytes in tests, in replay and in production.

Design
======

**Decisions in force** (`table.DecisionTable`). The latest `Decision` per prefix; one with
no best and no delta removes the prefix. Decisions are re-emitted after a worker crash
(same event ids, possibly after newer ones) and come from several partitions. Per input
partition, the input offsets of a worker's decisions only grow, so one high-water mark per
input partition (plus the prefixes decided at that offset) recognises every re-emission:
applying a decision twice is a no-op. The table also indexes, per client, the prefixes
whose decision has a delta for it.

**Update groups** (`groups`). Clients are grouped by `GroupKey`: their export `Profile`,
the IP versions their session carries (configured for the client and negotiated), and the
negotiated parameters that change UPDATE bytes (`wire.wire_params`: 4-octet AS, extended
message, iBGP; whatever the codec learns later, such as ADD-PATH, stays in the key by
default). A client without a delta in a decision is sent
`profile_attributes(best, profile, ...)`, the same for the whole group, so the work and the
bytes are shared.

**Adj-RIB-Out.** A group stores, per prefix, what its members were last sent
(`UpdateGroup.sent`); a client stores only its *exceptions*, the prefixes where a delta
made it differ (`Client.exceptions`, None meaning "nothing"). What client C was sent for
P is `C.exceptions[P]` if present, else `C.group.sent.get(P)`. Memory is prefixes x groups
+ exceptions, not prefixes x clients; the attribute values are interned
(`interning.Interner`), so the prefixes that share an attribute set share one object, and
values compare by identity. A group's entries exist once however many clients it has; a
group without members is deleted, and a new one is built from the decision table.

**Changes to UPDATEs** (`engine.Outbound.apply`, `packing`). For a batch of decisions,
each group computes its new value per changed prefix; where it differs from what it sent,
that is a change for all its members. Members with a delta in the old decision or the new
one are looked at one by one (a client has an exception only where the decision in force
has a delta for it, so the outcomes name them all: the work does not grow with ordinary
clients). A member whose own changes differ
from the group's gets overrides. The group's changes are grouped into runs by attribute
set and packed by the codec's packer once; a member with overrides re-packs only the runs
its overrides touch, and shares the bytes objects of the others. Only real changes are
sent: an announcement with new attributes, or a withdrawal of what was sent before. Each
message carries the ids of the decisions that caused it (the prefixes it holds), for the
`SentUpdate` record.

**Full table** (`establish`, `refresh`). The client's routes per IP version: the group's
table, packed once per group while no decision arrives (clients that come up together
share it), with the client's exceptions applied, then End-of-RIB per negotiated family
(RFC 4724); a ROUTE-REFRESH gets the family's table again, between BoRR and EoRR when
enhanced route refresh was negotiated (RFC 7313). Afterwards the client's state says
exactly what it was sent. Until `mark_ready()` (the decisions topic read to its end at
start), established sessions wait for their table.

**What goes out** (`wire`, RFC 7947). The export policy already applied NEXT_HOP (blackhole
rewrite), prepends, prepend_rs_as, community scrubbing and NO_EXPORT/NO_ADVERTISE. Here:
LOCAL_PREF is stripped; a route goes only with a next hop of its prefix's family (IPv6 with
its link-local next hop; IPv4 NLRI with an IPv6 next hop would need RFC 8950, which the
codec does not speak, so it is not sent); sessions that do not carry a family get none of
it; AS_TRANS and AS4_PATH towards 2-octet sessions come from the codec's encoder.

**Configuration reload** (`reconfigure`). The new `ExportPolicy` applies from then on.
Every established client that is still configured moves to the group of its new key (its
profile or families may have changed), built from the decision table under the new policy,
and gets its exceptions anew; the clients that moved from one old group to one new group
share their changes (the prefixes where the two groups' tables differ), and a member whose
exceptions, old or new, make it differ gets overrides, as in `apply`. Only the differences
go out, packed as usual, caused by the decisions in force. Clients no longer configured are
forgotten (the speaker closes their sessions); clients that are new get their full table
when they establish. Decisions taken under an older configuration may lack a delta for a
client that a peer-scoped request on the best route names (another ASN mapping, other rules,
a new client), so such clients (`exporter.styled`) are looked at one by one, like those
with a delta.

**Pending queue** (`pending.PendingQueue`). Messages wait per client until the transport
takes them. Past a bound (64 MiB by default) the queue is dropped and the client reported
in `Report.overflowed`; its state is forgotten, because it no longer says what the client
was told, and the transport must end the session (the Send Hold Timer of RFC 9687 does it
for a peer that stopped reading; one that reads too slowly is closed). Memory per client
never exceeds the bound. A full table is queued at once, so the bound must exceed the
largest full table (about 12 octets a route with 10 routes per attribute set).

Limits
======

- Batches matter: UPDATEs pack the prefixes of one `apply` call, so the transport should
  pass what one consumer poll returned, not one decision at a time.
- A reload costs one pass over the decision table per new group and per (old group, new
  group) pair, and the old and the new groups' tables are held together while it runs.
- The decisions in force were decided under the configuration their worker had; a reload
  applies the new export policy to them (`outcome_for` with the new clients), and the
  workers' new decisions follow as they come.
- Not in the codec, so not here: extended next hop (RFC 8950; IPv4 routes with an IPv6 next
  hop are not sent) and ADD-PATH (RFC 7911).
- Prefixes are the canonical text the decisions carry (`ipaddress` form), as everywhere.
"""

from speaker.outbound.engine import Footprint, Outbound, Report
from speaker.outbound.groups import Client, GroupKey, UpdateGroup
from speaker.outbound.messages import Kind, Outgoing
from speaker.outbound.pending import DEFAULT_LIMIT, PendingQueue
from speaker.outbound.table import DecisionTable
from speaker.outbound.wire import on_the_wire, wire_params

__all__ = [
    "DEFAULT_LIMIT",
    "Client",
    "DecisionTable",
    "Footprint",
    "GroupKey",
    "Kind",
    "Outbound",
    "Outgoing",
    "PendingQueue",
    "Report",
    "UpdateGroup",
    "on_the_wire",
    "wire_params",
]
