"""What one validation call knows: computed once per batch, then read by every check.

A batch is the prefixes of one received UPDATE that share an attribute set. Everything that
depends on the attributes alone (next hop, AS_PATH, origin, blackhole request, the
client's merged IRR lists, whether the origin is in them) is computed here once; `facts()`
adds what depends on the prefix (RPKI state, IRR prefix match), once per prefix, so that
the checks and the policy read it instead of computing it again.

A speaker splits an UPDATE by Kafka partition, so the same attribute set from the same
client comes back in event after event, each with a few prefixes: `batch_of()` keeps the
Batch of each (client policy, attribute set) in the PolicyData it was computed with, and
with it what else the chain works out from those alone (the batch checks' reasons, the
import policy's attributes by outcome), so that an event pays for its prefixes only.
"""

from __future__ import annotations

from typing import NamedTuple

from processors.validate.blackhole import requested
from processors.validate.client import ClientPolicy
from processors.validate.data import PolicyData
from processors.validate.irr import IrrFacts, irr_facts
from processors.validate.net import Net, canonical_address
from processors.validate.policy import received
from processors.validate.rpki import origin_validation
from schemas.attributes import Attributes, SegmentType
from schemas.events import Reason

# What a per-prefix check finds in a batch: (index of the prefix's Facts, reason) pairs.
Found = list[tuple[int, Reason]]


class Facts(NamedTuple):
    net: Net
    blackhole: bool  # a blackhole request for this prefix's family
    rpki: int | None  # RFC 6811 state, when origin validation is performed on this route
    irr: IrrFacts | None  # when the IRR step runs for this client


_new = tuple.__new__
_AS_SEQUENCE = SegmentType.AS_SEQUENCE


class Batch:
    __slots__ = (
        "attrs",
        "base",
        "blackhole",
        "data",
        "family",
        "first_asn",
        "imported",
        "irr_lists",
        "irr_prefix_needed",
        "next_hop",
        "origin",
        "origin_in_irr",
        "path_asns",
        "path_length",
        "path_set",
        "policy",
        "roa_validates",
        "runs",
        "screen",
        "validates_origin",
        "vrps",
        "white_list_route",
    )

    def __init__(self, policy: ClientPolicy, attrs: Attributes, data: PolicyData) -> None:
        self.policy, self.attrs, self.data = policy, attrs, data
        self.family = policy.family
        self.base = received(policy, attrs)
        self.next_hop = _canonical(attrs.next_hop)
        as_path = attrs.as_path
        head = as_path[0] if len(as_path) == 1 else None
        if head is not None and head.type == _AS_SEQUENCE and head.asns:
            # One AS_SEQUENCE (most paths): what the four Attributes methods below work
            # out, read off its ASNs without walking the path four times.
            asns = head.asns
            self.path_asns = asns
            self.path_length = len(asns)
            self.first_asn = asns[0]
            self.origin = asns[-1]
        else:
            self.path_asns = attrs.path_asns()
            self.path_length = attrs.path_length()
            self.first_asn = attrs.first_asn()
            self.origin = attrs.origin_asn()
        self.path_set = frozenset(self.path_asns)
        bh = policy.blackhole
        if requested(bh, self.base):
            self.blackhole = {4: bh.enabled(4), 6: bh.enabled(6)}
        else:
            self.blackhole = {4: False, 6: False}
        vrps = data.vrps if data.uses_vrps(policy) else None
        self.vrps = vrps.index if vrps is not None else None
        self.validates_origin = policy.rpki.enabled
        self.irr_lists = data.irr_lists(policy)
        irr, lists = policy.irr, self.irr_lists
        self.origin_in_irr = bool(irr and lists and irr.origin_needed and self.origin in lists.asns)
        self.irr_prefix_needed = irr.prefix_needed if irr is not None else False
        # A ROA stands in for a route object only for an origin in the AS-SETs.
        self.roa_validates = bool(irr and irr.roas_as_route_objects and self.origin_in_irr)
        self.white_list_route = bool(irr and any(i.levels for i in irr.white_list_route.values()))
        # Filled by chain.validate: by chain (a tuple of checks, or None for CHAIN), its
        # active per-prefix checks and the batch checks' reasons, and by the outcome key of
        # its screened path (IP version, blackhole, IRR facts, RPKI state: chain._screened),
        # the group's accepted flag, reasons and attributes (one dict, not two: a Batch is
        # kept for each of up to BATCH_CACHE_SIZE attribute sets); by outcome key, the
        # import policy's attributes.
        self.runs: dict[object, object] = {}
        self.imported: dict[object, Attributes] = {}
        # What the screened path's per-prefix loop reads, in one tuple (chain._screen).
        self.screen: tuple[object, ...] | None = None

    def facts(self, net: Net) -> Facts:
        blackhole = self.blackhole[net[0]]
        performed = self.validates_origin and not blackhole
        state = (
            origin_validation(self.vrps, net, self.origin)
            if performed or self.roa_validates
            else None
        )
        irr = irr_facts(self, net, state) if self.irr_lists is not None else None
        return _new(Facts, (net, blackhole, state if performed else None, irr))


BATCH_CACHE_SIZE = 131_072  # batches kept per PolicyData; a miss costs one Batch() (~30 µs)


def batch_of(policy: ClientPolicy, attrs: Attributes, data: PolicyData) -> Batch:
    """The Batch of this client's attribute set under these data sets, computed once.

    Keyed by the identity of the policy (one object per client and configuration version)
    and of the attributes: hashing an attribute set by value costs more than the rest of
    the lookup, and the sets a worker reads are interned (by the decoder, and by
    `schemas.attributes.interned`), so equal ones are one object. A hit is checked to be
    these very objects, since an id can be reused once its object is gone; an equal but
    distinct set only misses. Held by `data`, so a new data-set version starts afresh. The
    oldest entry goes first when full.
    """
    cache = data._batches
    key = (id(policy), id(attrs))
    found = cache.get(key)
    if found is not None and found.attrs is attrs and found.policy is policy:
        return found  # type: ignore[no-any-return]
    if len(cache) >= BATCH_CACHE_SIZE:
        # popitem, not `del cache[next(iter(cache))]`: after many deletions at its front a
        # plain dict's first key is found by walking past every deleted slot (18 µs a
        # miss on a 1M-route replay).
        cache.popitem(last=False)
    found = cache[key] = Batch(policy, attrs, data)
    return found


def _canonical(next_hop: str | None) -> str | None:
    if next_hop is None:
        return None
    try:
        return canonical_address(next_hop)
    except ValueError:
        return next_hop
