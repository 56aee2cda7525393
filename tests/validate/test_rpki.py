"""RPKI origin validation (RFC 6811) and cause 14."""

from __future__ import annotations

from typing import Any

import pytest

from processors.validate import PolicyData
from processors.validate.communities import rfc8097
from processors.validate.net import parse_prefix
from processors.validate.rpki import INVALID, NOT_FOUND, VALID, origin_validation
from schemas.attributes import AsPathSegment, SegmentType
from tests.validate.ixp import (
    RS_AS,
    client_cfg,
    client_policy,
    codes,
    names,
    route,
    verdict,
    vrps,
)

RPKI = {"filtering.rpki_bgp_origin_validation.enabled": True}
SET = vrps(
    ("185.50.0.0/22", 24, 3333),
    ("185.50.4.0/24", 24, 20940),
    ("185.50.4.0/24", 24, 13335),
    ("185.50.8.0/24", 24, 0),
    ("2a0c:9a40::/32", 48, 196615),
)


@pytest.mark.parametrize(
    ("prefix", "origin", "state"),
    [
        ("185.50.0.0/22", 3333, VALID),
        ("185.50.1.0/24", 3333, VALID),  # within maxLength
        ("185.50.1.0/25", 3333, INVALID),  # longer than maxLength
        ("185.50.1.0/24", 20940, INVALID),  # covered, another origin
        ("185.50.0.0/21", 3333, NOT_FOUND),  # the VRP does not cover a shorter prefix
        ("185.51.0.0/24", 3333, NOT_FOUND),
        ("185.50.4.0/24", 13335, VALID),  # one of two VRPs matches
        ("185.50.4.0/24", 3333, INVALID),
        ("185.50.8.0/24", 0, INVALID),  # AS 0 never validates (RFC 6483 §4)
        ("2a0c:9a40:1::/48", 196615, VALID),
        ("2a0c:9a40:1::/49", 196615, INVALID),
        ("2a0c:9a41::/32", 196615, NOT_FOUND),
    ],
)
def test_rfc6811_states(prefix: str, origin: int, state: int) -> None:
    assert origin_validation(SET.index, parse_prefix(prefix), origin) == state


def test_no_origin_is_never_valid() -> None:
    assert origin_validation(SET.index, parse_prefix("185.50.0.0/24"), None) == INVALID
    assert origin_validation(SET.index, parse_prefix("185.51.0.0/24"), None) == NOT_FOUND


def test_without_vrps_every_route_is_not_found() -> None:
    assert origin_validation(None, parse_prefix("185.50.0.0/24"), 3333) == NOT_FOUND


def test_invalid_routes_are_cause_14() -> None:
    data = PolicyData(vrps=SET)
    group = verdict(client_policy(RPKI), route(20002, 20940), "185.50.1.0/24", data)
    assert not group.accepted
    assert names(group) == ["rpki_invalid"]
    assert codes(group) == [14]
    assert group.reasons[0].detail == "origin AS20940; covering VRPs: 185.50.0.0/22-24 AS3333"


def test_valid_and_not_found_routes_pass() -> None:
    data = PolicyData(vrps=SET)
    policy = client_policy(RPKI)
    assert verdict(policy, route(20002, 3333), "185.50.1.0/24", data).reasons == ()
    assert verdict(policy, route(20002, 3333), "185.51.0.0/24", data).reasons == ()


def test_an_as_set_origin_covered_by_a_vrp_is_invalid() -> None:
    path = (
        AsPathSegment(SegmentType.AS_SEQUENCE, (20002,)),
        AsPathSegment(SegmentType.AS_SET, (3333,)),
    )
    policy = client_policy({**RPKI, "filtering.allow_as_set": True})
    group = verdict(policy, route(segments=path), "185.50.1.0/24", PolicyData(vrps=SET))
    assert names(group) == ["rpki_invalid"]


def test_rpki_off_means_no_check() -> None:
    group = verdict(client_policy(), route(20002, 20940), "185.50.1.0/24", PolicyData(vrps=SET))
    assert group.reasons == ()


def _rpki_communities(general: dict[str, Any], origin: int, prefix: str, **kw: Any) -> Any:
    policy = client_policy(
        {
            **general,
            "communities.rpki_bgp_origin_validation_valid.lrg": "rs_as:1000:1",
            "communities.rpki_bgp_origin_validation_unknown.lrg": "rs_as:1000:2",
            "communities.rpki_bgp_origin_validation_invalid.lrg": "rs_as:1000:4",
            "communities.rpki_bgp_origin_validation_not_performed.lrg": "rs_as:1000:3",
        },
        **kw,
    )
    group = verdict(policy, route(20002, origin), prefix, PolicyData(vrps=SET))
    assert group.attributes is not None
    large = {c for c in group.attributes.large_communities if c[1] == 1000}
    return group, large, group.attributes.ext_communities


@pytest.mark.parametrize(
    ("origin", "prefix", "state", "value"),
    [(3333, "185.50.1.0/24", VALID, 1), (3333, "185.51.0.0/24", NOT_FOUND, 2)],
)
def test_validation_state_communities(origin: int, prefix: str, state: int, value: int) -> None:
    _, large, ext = _rpki_communities(RPKI, origin, prefix)
    assert large == {(RS_AS, 1000, value)}
    assert ext == (rfc8097(state),)


def test_invalid_routes_are_kept_and_marked_without_reject_invalid() -> None:
    general = {**RPKI, "filtering.rpki_bgp_origin_validation.reject_invalid": False}
    group, large, ext = _rpki_communities(general, 20940, "185.50.1.0/24")
    assert group.accepted and group.reasons == ()
    assert large == {(RS_AS, 1000, 4)}
    assert ext == (rfc8097(INVALID),)


def test_reject_invalid_per_client() -> None:
    cfg = {"filtering": {"rpki_bgp_origin_validation": {"reject_invalid": False}}}
    group, _, _ = _rpki_communities(
        RPKI, 20940, "185.50.1.0/24", clients=client_cfg(20002, "192.0.2.2", cfg)
    )
    assert group.accepted


def test_not_performed_community_when_rpki_is_off() -> None:
    _, large, ext = _rpki_communities({}, 20940, "185.50.1.0/24")
    assert large == {(RS_AS, 1000, 3)}
    assert ext == ()


def test_received_rfc8097_states_are_ignored() -> None:
    # RFC 8097 §2: the state is not accepted from an external peer.
    policy = client_policy(RPKI)
    attrs = route(20002, 3333, ext=[rfc8097(INVALID)])
    group = verdict(policy, attrs, "185.50.1.0/24", PolicyData(vrps=SET))
    assert group.attributes is not None
    assert group.attributes.ext_communities == (rfc8097(VALID),)
