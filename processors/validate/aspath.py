"""AS_PATH checks; each depends on the attribute set alone, so runs once per batch.

| check | cause | rule |
|---|---|---|
| AS_SET | 65535 | no AS_SET segment unless `allow_as_set` (RFC 6472; BIRD's `allow as sets`) |
| route server's ASN | 65535 | `rs_as` nowhere in the path (a loop, RFC 4271 §9.1.2) |
| length | 1 | `bgp_path.len` (an AS_SET counts 1) at most `max_as_path_len` |
| left-most ASN | 6 | the first ASN is the client's ASN (RFC 7948 §4.5) |
| invalid ASN | 7 | no reserved, private or documentation ASN anywhere, when enabled |
| transit-free | 8 | no `transit_free.asns` other than the client's own, when action is reject |
| never via RS | 15 | no `never_via_route_servers` ASN (listed or from `asns_file`) |
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from processors.validate.reasons import Step
from schemas.attributes import SegmentType
from schemas.events import Reason

if TYPE_CHECKING:
    from processors.validate.context import Batch

# arouteserver's `as_path_contains_invalid_asn()` ranges (IANA special-purpose AS numbers).
INVALID_ASN_RANGES: tuple[tuple[int, int, str], ...] = (
    (0, 0, "reserved, RFC 7607"),
    (23456, 23456, "AS_TRANS, RFC 6793"),
    (64496, 64511, "documentation, RFC 5398"),
    (64512, 65534, "private use, RFC 6996"),
    (65535, 65535, "reserved, RFC 7300"),
    (65536, 65551, "documentation, RFC 5398"),
    (65552, 131071, "reserved"),
    (4200000000, 4294967294, "private use, RFC 6996"),
    (4294967295, 4294967295, "reserved, RFC 7300"),
)


def invalid_asn(asn: int) -> str | None:
    """Why an ASN may not appear in a path, or None."""
    for low, high, why in INVALID_ASN_RANGES:
        if low <= asn <= high:
            return why
    return None


def _path(batch: Batch) -> str:
    return " ".join(map(str, batch.path_asns)) or "empty"


def check_as_set(batch: Batch) -> Reason | None:
    if batch.policy.allow_as_set:
        return None
    if not any(seg.type == SegmentType.AS_SET for seg in batch.attrs.as_path):
        return None
    return Step.AS_SET.reason(f"AS_PATH [{_path(batch)}] has an AS_SET segment")


def check_rs_as(batch: Batch) -> Reason | None:
    # The route has been through this route server already: a loop. BIRD (what arouteserver
    # configures) drops it before its filters, so no client ever receives it.
    if batch.policy.rs_as not in batch.path_set:
        return None
    return Step.RS_AS_IN_PATH.reason(
        f"AS_PATH [{_path(batch)}] has the route server's AS{batch.policy.rs_as}"
    )


def check_length(batch: Batch) -> Reason | None:
    limit = batch.policy.max_as_path_len
    if batch.path_length <= limit:
        return None
    return Step.AS_PATH_LENGTH.reason(f"AS_PATH length {batch.path_length} is over {limit}")


def check_left_most(batch: Batch) -> Reason | None:
    if batch.first_asn == batch.policy.asn:
        return None
    first = "none" if batch.first_asn is None else f"AS{batch.first_asn}"
    return Step.LEFT_MOST_ASN.reason(
        f"left-most ASN {first} is not the peer's AS{batch.policy.asn}"
    )


def check_invalid_asn(batch: Batch) -> Reason | None:
    if not batch.policy.reject_invalid_asns:
        return None
    bad = [(asn, why) for asn in batch.path_asns if (why := invalid_asn(asn))]
    if not bad:
        return None
    shown = ", ".join(f"AS{asn} ({why})" for asn, why in dict(bad).items())
    return Step.INVALID_ASN.reason(f"AS_PATH [{_path(batch)}] has {shown}")


def check_transit_free(batch: Batch) -> Reason | None:
    found = sorted(batch.path_set & batch.policy.transit_free)
    if not found:
        return None
    shown = ", ".join(f"AS{asn}" for asn in found)
    return Step.TRANSIT_FREE.reason(f"AS_PATH [{_path(batch)}] has transit-free {shown}")


def check_never_via(batch: Batch) -> Reason | None:
    found = sorted(batch.path_set & batch.policy.never_via)
    if not found:
        return None
    shown = ", ".join(f"AS{asn}" for asn in found)
    return Step.NEVER_VIA_RS.reason(
        f"AS_PATH [{_path(batch)}] has {shown}, never via route servers"
    )
