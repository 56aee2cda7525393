"""What goes on the wire towards one client session (RFC 7947 §2.2), and what UPDATE bytes
depend on. Pure.

The attributes a client is sent come from the export policy (`processors.export`): NEXT_HOP
as received or as the blackhole policy rewrote it, AS_PATH as received unless prepend_rs_as or
a prepend community asked otherwise, MED as received, control communities scrubbed. This
module only makes them fit the session:

- LOCAL_PREF is never sent to a client (RFC 4271 §5.1.5; the codec also omits it on eBGP
  sessions, but a value stripped here compares equal to the same route without one).
- A route goes only with a next hop of its prefix's family: IPv4 NLRI with an IPv6 next hop
  would need the extended next hop encoding of RFC 8950, which the codec does not speak, so
  such a route is not sent (it is withdrawn if it was). An IPv6 next hop keeps its link-local
  companion (RFC 2545 §3).
- Attributes too long to leave room for one prefix in a message are not sent either.
- AS_TRANS and AS4_PATH towards a 2-octet session are the codec's business
  (`speaker.codec.attribute_encoder`), driven by the session's `Negotiated`.
"""

from __future__ import annotations

from dataclasses import replace

from schemas.attributes import Attributes
from speaker.codec import IPV4_UNICAST, IPV6_UNICAST, Family, Negotiated
from speaker.codec.packer import pack_announcements

VERSION_OF: dict[Family, int] = {IPV4_UNICAST: 4, IPV6_UNICAST: 6}
FAMILY_OF: dict[int, Family] = {4: IPV4_UNICAST, 6: IPV6_UNICAST}
_LONGEST = {4: "0.0.0.0/32", 6: "::/128"}  # the longest prefix of each family on the wire
# Attributes whose rough size stays under this surely fit a 4096-octet UPDATE with a /128;
# bigger ones are checked by packing one prefix.
_SURELY_FITS = 2048


def version_of(prefix: str) -> int:
    return 6 if ":" in prefix else 4


def wire_params(negotiated: Negotiated) -> Negotiated:
    """The part of a session's agreement that changes UPDATE bytes: 4-octet AS, extended
    message (the size limit), iBGP. Sessions with equal values get identical UPDATEs.

    Route refresh does not change UPDATEs and the families are the group's `versions`, so
    they are cleared; anything the codec learns later (ADD-PATH, extended next hop) stays in
    by default, and so splits groups, which is the safe side.
    """
    return replace(
        negotiated, families=frozenset(), route_refresh=False, enhanced_route_refresh=False
    )


def carried_versions(peer_families: frozenset[int], negotiated: Negotiated) -> frozenset[int]:
    """The IP versions a session carries: configured for the client and negotiated."""
    return frozenset(VERSION_OF[f] for f in negotiated.families if f in VERSION_OF) & (
        peer_families
    )


def _rough_size(attrs: Attributes) -> int:
    path = sum(2 + 8 * len(segment.asns) for segment in attrs.as_path)  # AS_PATH and AS4_PATH
    unknown = sum(4 + len(raw.value) for raw in attrs.unknown)
    return (
        96
        + path
        + unknown
        + 4 * len(attrs.communities)
        + 8 * len(attrs.ext_communities)
        + 12 * len(attrs.large_communities)
    )


def _fits(attrs: Attributes, version: int, wire: Negotiated) -> bool:
    if _rough_size(attrs) < _SURELY_FITS:
        return True
    try:
        pack_announcements(attrs, [_LONGEST[version]], wire)
    except ValueError:
        return False
    return True


def on_the_wire(attrs: Attributes, version: int, wire: Negotiated) -> Attributes | None:
    """The attributes as a session with these wire parameters is sent them, for a prefix of
    this IP version; None if they cannot be sent to it."""
    next_hop = attrs.next_hop
    if next_hop is None or (":" in next_hop) != (version == 6):
        return None
    if attrs.local_pref is not None:
        attrs = replace(attrs, local_pref=None)
    if version == 4 and attrs.next_hop_link_local is not None:
        attrs = replace(attrs, next_hop_link_local=None)  # no such thing in IPv4
    if not _fits(attrs, version, wire):
        return None
    return attrs
