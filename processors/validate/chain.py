"""The import filter chain: every check on a batch of prefixes, verdicts grouped by outcome.

Checks run in arouteserver's order (reasons.Step), but none reads another's result, so the
order changes nothing but the order of the reasons, which is canonical anyway: `validate()`
takes the checks as a parameter so that tests can run them shuffled. Checks that cannot
fail for a client (an empty black list, RPKI off) are skipped for it.

Cost: the batch checks run once per client and attribute set (context.batch_of). Per prefix
there is one parse and the RPKI and IRR lookups (context.Facts); each prefix check then
runs once over all the batch's facts, so that a check a prefix passes costs a condition, not
a call. Prefixes with the same outcome share one VerdictGroup and one attribute set.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from processors.validate import aspath, irr, nexthop, prefixes, rpki
from processors.validate.client import ClientPolicy
from processors.validate.context import Batch, Facts, Found, batch_of
from processors.validate.data import PolicyData
from processors.validate.net import Net, parse_prefix
from processors.validate.policy import import_attributes
from processors.validate.reasons import STEP_BY_NAME, Step, position_of
from schemas.attributes import Attributes
from schemas.events import Reason, VerdictGroup

_GLOBAL_UNICAST_V6 = prefixes._GLOBAL_UNICAST_V6  # 2000::/3, as check_global_unicast reads it

BatchRun = Callable[[Batch], Reason | None]
PrefixRun = Callable[[Batch, Sequence[Facts]], Found]


def _always(policy: ClientPolicy) -> bool:
    return True


@dataclass(frozen=True)
class Check:
    step: Step
    run: BatchRun | PrefixRun
    per_prefix: bool
    applies: Callable[[ClientPolicy], bool] = _always


def _batch(step: Step, run: BatchRun, applies: Callable[[ClientPolicy], bool] = _always) -> Check:
    return Check(step, run, False, applies)


def _prefix(step: Step, run: PrefixRun, applies: Callable[[ClientPolicy], bool] = _always) -> Check:
    return Check(step, run, True, applies)


CHAIN: tuple[Check, ...] = (
    _batch(Step.AS_SET, aspath.check_as_set, lambda p: not p.allow_as_set),
    _batch(Step.RS_AS_IN_PATH, aspath.check_rs_as),
    _prefix(Step.AFI, prefixes.check_afi),
    _batch(Step.NEXT_HOP, nexthop.check_next_hop, lambda p: p.next_hops is not None),
    _batch(Step.AS_PATH_LENGTH, aspath.check_length),
    _batch(Step.LEFT_MOST_ASN, aspath.check_left_most),
    _batch(Step.INVALID_ASN, aspath.check_invalid_asn, lambda p: p.reject_invalid_asns),
    _batch(Step.TRANSIT_FREE, aspath.check_transit_free, lambda p: bool(p.transit_free)),
    _batch(Step.NEVER_VIA_RS, aspath.check_never_via, lambda p: bool(p.never_via)),
    _prefix(Step.NOT_GLOBAL_UNICAST, prefixes.check_global_unicast),
    _prefix(
        Step.GLOBAL_BLACK_LIST,
        prefixes.check_global_black_list,
        lambda p: bool(p.global_black_list),
    ),
    _prefix(
        Step.CLIENT_BLACK_LIST,
        prefixes.check_client_black_list,
        lambda p: bool(p.client_black_list),
    ),
    _prefix(Step.BOGON, prefixes.check_bogon),
    _prefix(
        Step.IRR_ORIGIN, irr.check_origin, lambda p: p.irr is not None and p.irr.enforce_origin
    ),
    _prefix(
        Step.IRR_PREFIX, irr.check_prefix, lambda p: p.irr is not None and p.irr.enforce_prefix
    ),
    _prefix(
        Step.RPKI_INVALID, rpki.check_invalid, lambda p: p.rpki.enabled and p.rpki.reject_invalid
    ),
    _prefix(Step.PREFIX_LENGTH, prefixes.check_length),
)

# (reasons, first failing step, family, blackhole, IRR facts, RPKI state)
Outcome = tuple[tuple[Reason, ...], Step | None, int, bool, object, int | None]


def validate(
    policy: ClientPolicy,
    attrs: Attributes,
    prefixes: Sequence[str],
    data: PolicyData,
    checks: Sequence[Check] = CHAIN,
) -> tuple[VerdictGroup, ...]:
    """The verdict on each prefix announced with `attrs` by the client, grouped by outcome.

    Every prefix is in exactly one group, in the order given; groups come in the order of
    their first prefix. A group lists all the reasons its prefixes failed, in chain order.
    """
    batch = batch_of(policy, attrs, data)
    per_prefix, common = _batch_checks(batch, checks)
    nets = [_parse(text) for text in prefixes]
    facts = [batch.facts(net) for net in nets if net is not None]
    outcomes: dict[Outcome, list[str]] = {}
    if checks is CHAIN and len(facts) == len(nets) and _all_pass(batch, facts):
        # The usual case: every prefix parsed and passed every per-prefix check, so each
        # one's reasons are the batch checks' (the same for all): _outcome() without the
        # call and without sorting them again per prefix.
        reasons = _ordered(common) if common else ()
        first = STEP_BY_NAME[reasons[0].name] if reasons else None
        for text, (net, blackhole, state, irr_facts) in zip(prefixes, facts, strict=True):
            key = (reasons, first, net[0], blackhole, irr_facts, state)
            members = outcomes.get(key)
            if members is None:
                outcomes[key] = [text]
            else:
                members.append(text)
        return _groups(batch, outcomes)
    found = _prefix_reasons(batch, per_prefix, facts)
    parsed = iter(enumerate(facts))
    for text, net in zip(prefixes, nets, strict=True):
        if net is None:
            outcome = _malformed(batch, text, common)
        else:
            index, mine = next(parsed)
            outcome = _outcome(mine, common, found.get(index))
        outcomes.setdefault(outcome, []).append(text)
    return _groups(batch, outcomes)


def _batch_checks(batch: Batch, checks: Sequence[Check]) -> tuple[list[Check], list[Reason]]:
    """The per-prefix checks that apply to the client, and the batch checks' reasons.

    Both depend on the client, the attributes and the chain only, so they are kept in the
    (memoised) batch, by chain: the usual CHAIN under a key that costs no hashing of its
    eighteen checks, any other (tests run them shuffled) under its value. The reasons
    list is shared by every call: it is read, never changed.
    """
    key = None if checks is CHAIN else tuple(checks)
    found = batch.runs.get(key)
    if found is None:
        active = [c for c in checks if c.applies(batch.policy)]
        common = [r for c in active if not c.per_prefix if (r := c.run(batch)) is not None]  # type: ignore[call-arg]
        found = batch.runs[key] = ([c for c in active if c.per_prefix], common)
    return found  # type: ignore[return-value]


def _prefix_reasons(
    batch: Batch, per_prefix: list[Check], facts: list[Facts]
) -> dict[int, list[Reason]]:
    """Reasons by index in `facts`, from every per-prefix check run over them all."""
    found: dict[int, list[Reason]] = {}
    for check in per_prefix:
        for index, reason in check.run(batch, facts):  # type: ignore[call-arg]
            found.setdefault(index, []).append(reason)
    return found


# The per-prefix checks of CHAIN that _all_pass() stands in for. If CHAIN gains another,
# this fails at import: _all_pass() must learn when the new check can fail first.
assert {c.step for c in CHAIN if c.per_prefix} == {
    Step.AFI, Step.NOT_GLOBAL_UNICAST, Step.GLOBAL_BLACK_LIST, Step.CLIENT_BLACK_LIST,
    Step.BOGON, Step.IRR_ORIGIN, Step.IRR_PREFIX, Step.RPKI_INVALID, Step.PREFIX_LENGTH,
}, "_all_pass() screens the per-prefix checks of CHAIN"


def _all_pass(batch: Batch, facts: list[Facts]) -> bool:
    """Whether no per-prefix check of CHAIN can fail on these facts: one loop instead of a
    call and a list per check, which cost more than the checks themselves on the few
    prefixes of a part (a table's UPDATEs, split by partition, carry about two each).

    Conservative: it answers False whenever any check might fail, even one that does not
    apply to this client, and the checks then run as usual. It answers True only where
    every check passes, so the reasons found are those the checks would find (none)."""
    policy = batch.policy
    family = batch.family
    allowed = policy.allowed_lengths
    black = policy.global_black_list.match if policy.global_black_list else None
    own_black = policy.client_black_list.match if policy.client_black_list else None
    bogon = batch.data.bogons.rules.match
    for net, blackhole, state, irr_facts in facts:
        version = net[0]
        if (
            version != family  # AFI
            or (version == 6 and net[1] >> 125 != _GLOBAL_UNICAST_V6)  # global unicast
            or state == rpki.INVALID  # RPKI
            or (net[2] not in allowed[version] and not blackhole)  # prefix length
            or (irr_facts is not None and not irr_facts.validated_by  # IRR origin, prefix
                and not (irr_facts.origin_ok and irr_facts.prefix_ok))
            or (black is not None and black(net) is not None)  # global black list
            or (own_black is not None and own_black(net) is not None)  # client black list
            or bogon(net) is not None  # bogons
        ):
            return False
    return True


def _parse(text: str) -> Net | None:
    try:
        return parse_prefix(text)
    except ValueError:
        return None


def _outcome(facts: Facts, common: list[Reason], found: list[Reason] | None) -> Outcome:
    net, blackhole, state, irr_facts = facts
    if found is None and not common:
        return (), None, net.version, blackhole, irr_facts, state
    reasons = _ordered(common + found if found else common)
    return reasons, STEP_BY_NAME[reasons[0].name], net.version, blackhole, irr_facts, state


def _malformed(batch: Batch, text: str, common: list[Reason]) -> Outcome:
    reasons = _ordered([*common, Step.MALFORMED_PREFIX.reason(repr(text))])
    return reasons, STEP_BY_NAME[reasons[0].name], batch.family, False, None, None


def _ordered(reasons: list[Reason]) -> tuple[Reason, ...]:
    return tuple(sorted(reasons, key=position_of)) if len(reasons) > 1 else tuple(reasons)


def _groups(batch: Batch, outcomes: dict[Outcome, list[str]]) -> tuple[VerdictGroup, ...]:
    # The attributes of an outcome depend on the batch and this key only: computed once per
    # batch, so groups with the same outcome share one Attributes, in this verdict and the
    # next ones of the same attribute set.
    policy = batch.policy
    shared = batch.imported
    groups = []
    for (reasons, first, version, blackhole, irr_facts, state), members in outcomes.items():
        key = (first, version, blackhole, irr_facts, state)
        attributes = shared.get(key)
        if attributes is None:
            attributes = shared[key] = import_attributes(
                policy,
                batch.base,
                version,
                blackhole,
                irr_facts,
                state,
                first,  # type: ignore[arg-type]
            )
        groups.append(VerdictGroup(tuple(members), _accepted(policy, first), reasons, attributes))
    return tuple(groups)


def _accepted(policy: ClientPolicy, first: Step | None) -> bool:
    """`tag` keeps a failing route (tagged, with LOCAL_PREF 1, never exported); a route
    that cannot be placed (not a client, a malformed prefix) is never kept."""
    if first is None:
        return True
    return policy.keeps_rejects and first not in (Step.NOT_A_CLIENT, Step.MALFORMED_PREFIX)
