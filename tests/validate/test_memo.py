"""The chain's memoisation (context.batch_of, ImportPolicy.for_peer, PolicyData.refs) never
carries a result over to another client, configuration version or data-set version.

Each verdict is compared with one from a PolicyData copy whose caches are empty: what the
chain gives without memoisation.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import replace

import pytest

from processors.validate import CHAIN, ImportPolicy, PolicyData, context, judge, validate
from processors.validate.client import ClientPolicy
from processors.validate.communities import rfc8097
from processors.validate.rpki import INVALID, VALID
from schemas.attributes import Attributes
from schemas.events import Epoch, EventHeader, Position, ReceivedRoutes, Session, VerdictGroup
from tests.validate.ixp import client_policy, data_with, irr, make_config, route, vrps

RPKI = {"filtering.rpki_bgp_origin_validation.enabled": True}
PREFIXES = ["185.50.0.0/24", "185.50.1.0/24"]


def uncached(
    policy: ClientPolicy, attrs: Attributes, prefixes: Sequence[str], data: PolicyData
) -> tuple[VerdictGroup, ...]:
    # `replace` gives a PolicyData with the same data sets and empty caches (init=False).
    return validate(policy, attrs, prefixes, replace(data))


def outcome(groups: tuple[VerdictGroup, ...]) -> list[tuple[tuple[str, ...], bool, list[str]]]:
    return [(g.prefixes, g.accepted, [r.name for r in g.reasons]) for g in groups]


def test_the_same_attributes_from_two_clients_get_their_own_verdicts() -> None:
    config = make_config(RPKI)
    policies = ImportPolicy(config)
    mine, other = policies.for_peer("192.0.2.2"), policies.for_peer("192.0.2.3")
    assert mine is not None and other is not None
    data = data_with(vrps(("185.50.0.0/16", 24, 3333)))
    attrs = route(20002, 3333)  # AS20002's path and next hop: wrong for AS20003
    first = validate(mine, attrs, PREFIXES, data)
    second = validate(other, attrs, PREFIXES, data)
    assert outcome(first) == [(tuple(PREFIXES), True, [])]
    assert outcome(second) == [
        (tuple(PREFIXES), False, ["invalid_next_hop", "invalid_left_most_asn"])
    ]
    assert first == uncached(mine, attrs, PREFIXES, data)
    assert second == uncached(other, attrs, PREFIXES, data)
    # and again, now that both are memoised, in the other order
    assert validate(other, attrs, PREFIXES, data) == second
    assert validate(mine, attrs, PREFIXES, data) == first


def test_two_configuration_versions_of_one_client_do_not_share_results() -> None:
    long_path = route(20002, 3333, 3356, 174, 1299)
    strict = client_policy({"filtering.max_as_path_len": 3})
    loose = client_policy({"filtering.max_as_path_len": 10})
    data = PolicyData()
    assert outcome(validate(strict, long_path, PREFIXES, data))[0][2] == ["as_path_too_long"]
    assert outcome(validate(loose, long_path, PREFIXES, data))[0][2] == []
    assert outcome(validate(strict, long_path, PREFIXES, data))[0][2] == ["as_path_too_long"]


def test_a_new_vrp_set_is_not_answered_from_the_old_ones_memo() -> None:
    policy = client_policy(RPKI)
    attrs = route(20002, 3333)
    before = data_with(vrps(("185.50.0.0/16", 24, 20940)))
    after = before.with_vrps(vrps(("185.50.0.0/16", 24, 3333)))
    old = validate(policy, attrs, PREFIXES, before)
    new = validate(policy, attrs, PREFIXES, after)
    assert outcome(old) == [(tuple(PREFIXES), False, ["rpki_invalid"])]
    assert outcome(new) == [(tuple(PREFIXES), True, [])]
    # the import policy's attributes follow the data too: RFC 8097 state of each version
    assert rfc8097(INVALID) in old[0].attributes.ext_communities  # type: ignore[union-attr]
    assert rfc8097(VALID) in new[0].attributes.ext_communities  # type: ignore[union-attr]
    assert new == uncached(policy, attrs, PREFIXES, after)
    assert validate(policy, attrs, PREFIXES, before) == old  # the old version still answers
    # however it is derived, a PolicyData starts with its own, empty memo
    assert validate(policy, attrs, PREFIXES, replace(before, vrps=after.vrps)) == new


def test_a_loaded_irr_list_changes_verdicts_and_references() -> None:
    config = make_config({"filtering.irrdb.enforce_origin_in_as_set": True})
    policies = ImportPolicy(config)
    event = ReceivedRoutes(
        EventHeader("speaker-1", 1, 1),
        Session("speaker-1", "192.0.2.2", 20002, Epoch("i", 1)),
        1,
        route(20002, 3333),
        tuple(PREFIXES),
    )
    header, position = EventHeader("worker-1", 2, 2), Position("ixrs.routes", 0, 5)
    empty = PolicyData()
    loaded = empty.with_irr([irr("AS20002", asns=[3333])])
    before = judge(event, position, header, policies, empty)
    after = judge(event, position, header, policies, loaded)
    assert before is not None and after is not None
    assert outcome(before.groups)[0][2] == ["origin_not_in_as_set"]
    assert outcome(after.groups)[0][2] == []
    irr_refs = [(r.name, r.version) for r in after.datasets if r.kind == "irr-prefixes"]
    assert irr_refs == [("AS20002", loaded.irr["AS20002"].version)]
    assert next(r for r in before.datasets if r.kind == "irr-prefixes").version == ""
    assert judge(event, position, header, policies, empty) == before


def test_equal_attributes_decoded_apart_give_the_same_verdict() -> None:
    policy = client_policy(RPKI)
    data = data_with(vrps(("185.50.0.0/16", 24, 3333)))
    attrs = route(20002, 3333, communities=[(20002, 7)])
    first = validate(policy, attrs, PREFIXES, data)
    again = validate(policy, copy.deepcopy(attrs), PREFIXES, data)
    assert again == first == uncached(policy, attrs, PREFIXES, data)
    changed = replace(attrs, communities=((20002, 8),))
    assert validate(policy, changed, PREFIXES, data)[0].attributes.communities == ((20002, 8),)  # type: ignore[union-attr]


def test_shuffled_chains_are_memoised_apart() -> None:
    policy = client_policy()
    attrs = route(3333, 20002, next_hop="192.0.2.9")
    data = PolicyData()
    reference = validate(policy, attrs, PREFIXES, data)
    assert validate(policy, attrs, PREFIXES, data, CHAIN[::-1]) == reference
    # a chain without the batch checks does not get the full chain's reasons
    only_prefix_checks = [c for c in CHAIN if c.per_prefix]
    assert outcome(validate(policy, attrs, PREFIXES, data, only_prefix_checks)) == [
        (tuple(PREFIXES), True, [])
    ]
    assert validate(policy, attrs, PREFIXES, data) == reference


def test_peer_addresses_are_resolved_per_configuration() -> None:
    policies = ImportPolicy(make_config())
    found = policies.for_peer("2001:DB8:1::2")  # spelt otherwise than in clients.yml
    assert found is not None and found is policies.for_peer("2001:db8:1::2")
    assert policies.for_peer("192.0.2.77") is None
    assert policies.for_peer("192.0.2.77") is None  # remembered, still no client
    without = ImportPolicy(make_config(clients=[{"asn": 20003, "ip": "192.0.2.3"}]))
    assert without.for_peer("192.0.2.2") is None


def test_the_memo_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(context, "BATCH_CACHE_SIZE", 4)
    policy = client_policy()
    data = PolicyData()
    paths = [route(20002, asn) for asn in range(3000, 3010)]
    results = [validate(policy, attrs, PREFIXES, data) for attrs in paths]
    assert len(data._batches) == 4
    assert [validate(policy, attrs, PREFIXES, data) for attrs in paths] == results
