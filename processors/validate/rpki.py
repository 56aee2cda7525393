"""RPKI origin validation (RFC 6811) and its check (reject cause 14).

A VRP covers a route when its prefix is the route's or a shorter one containing it. The route
is NOT FOUND when no VRP covers it; VALID when a covering VRP has the route's origin ASN and a
maxLength no shorter than the route's prefix; INVALID otherwise (RFC 6811 §2). A route whose
AS_PATH ends in an AS_SET has no origin ("NONE") and so is never VALID, and an AS 0 VRP never
validates anything (RFC 6483 §4, RFC 7607).

States are RFC 8097's numbers, which are also the last octet of the extended community the
policy adds: 0 valid, 1 not found, 2 invalid.

Without a loaded VRP set every route is NOT FOUND, as BIRD's empty ROA table gives.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ixrs.config import Client
from ixrs.config.general import GeneralConfig
from processors.validate.communities import NO_TAGS, Tags, render
from processors.validate.net import Net, format_net
from processors.validate.prefix_index import PrefixIndex
from processors.validate.reasons import Step
from schemas.events import Reason

if TYPE_CHECKING:
    from processors.validate.context import Batch, Facts, Found

VALID, NOT_FOUND, INVALID = 0, 1, 2
STATE_NAMES = ("valid", "not-found", "invalid")

VrpIndex = dict[int, PrefixIndex[tuple[int, int]]]


@dataclass(frozen=True, eq=False)
class RpkiPolicy:
    enabled: bool
    reject_invalid: bool
    # RFC 8097 state (0 valid, 1 not found, 2 invalid) -> the configured internal community
    state_tags: tuple[Tags, Tags, Tags] = (NO_TAGS, NO_TAGS, NO_TAGS)
    not_performed: Tags = NO_TAGS
    aspa_not_performed: Tags = NO_TAGS  # ASPA is not implemented: never performed


def rpki_policy(general: GeneralConfig, client: Client) -> RpkiPolicy:
    c = general.communities
    return RpkiPolicy(
        enabled=general.filtering.rpki_bgp_origin_validation.enabled,
        reject_invalid=client.settings.filtering.rpki_bgp_origin_validation.reject_invalid,
        state_tags=(
            render(c.rpki_bgp_origin_validation_valid),
            render(c.rpki_bgp_origin_validation_unknown),
            render(c.rpki_bgp_origin_validation_invalid),
        ),
        not_performed=render(c.rpki_bgp_origin_validation_not_performed),
        aspa_not_performed=render(c.rpki_aspa_verification_not_performed),
    )


def origin_validation(index: VrpIndex | None, net: Net, origin: int | None) -> int:
    if index is None:
        return NOT_FOUND
    value, length = net.value, net.length
    covered = False
    for level, shift, table in index[net.version].levels:
        if level > length:
            break
        found = table.get(value >> shift)
        if found is None:
            continue
        covered = True
        for max_length, asn in found:
            if asn == origin and length <= max_length and asn != 0:
                return VALID
    return INVALID if covered else NOT_FOUND


def covering_vrps(index: VrpIndex, net: Net) -> list[str]:
    """The VRPs covering a prefix, as `prefix-maxLength ASn`, for reason details."""
    out = []
    for level, items in index[net.version].covering(net.value, net.length):
        network = (
            net.value >> (index[net.version].bits - level) << (index[net.version].bits - level)
        )
        text = format_net(Net(net.version, network, level))
        out += [f"{text}-{max_length} AS{asn}" for max_length, asn in items]
    return out


def check_invalid(batch: Batch, facts: Sequence[Facts]) -> Found:
    return [(i, _invalid(batch, f.net)) for i, f in enumerate(facts) if f.rpki == INVALID]


def _invalid(batch: Batch, net: Net) -> Reason:
    assert batch.vrps is not None
    origin = "none (AS_SET)" if batch.origin is None else f"AS{batch.origin}"
    vrps = covering_vrps(batch.vrps, net)
    shown = ", ".join(vrps[:5]) + (f" and {len(vrps) - 5} more" if len(vrps) > 5 else "")
    return Step.RPKI_INVALID.reason(f"origin {origin}; covering VRPs: {shown}")
