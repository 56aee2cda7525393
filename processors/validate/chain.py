"""The import filter chain: every check on a batch of prefixes, verdicts grouped by outcome.

Checks run in arouteserver's order (reasons.Step), but none reads another's result, so the
order changes nothing but the order of the reasons, which is canonical anyway: `validate()`
takes the checks as a parameter so that tests can run them shuffled. Checks that cannot
fail for a client (an empty black list, RPKI off) are skipped for it.

Cost: the batch checks run once per client and attribute set (context.batch_of). Per prefix
there is one parse and the RPKI and IRR lookups (context.Facts); each prefix check then
runs once over all the batch's facts, so that a check a prefix passes costs a condition, not
a call. Prefixes with the same outcome share one VerdictGroup and one attribute set. The
usual case, every prefix passing every per-prefix check, is settled by one loop that parses,
finds the facts and screens each prefix (_screened), its groups' reasons and attributes
kept per batch: a table's parts carry about two prefixes each, so what a call costs
besides its prefixes counts as much as they do.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from weakref import WeakKeyDictionary

from processors.validate import aspath, irr, nexthop, prefixes, rpki
from processors.validate.client import ClientPolicy
from processors.validate.context import Batch, Facts, Found, batch_of
from processors.validate.data import PolicyData
from processors.validate.irr import irr_facts as _irr_facts
from processors.validate.net import BITS, Net, parse_prefix
from processors.validate.policy import import_attributes
from processors.validate.prefix_index import GATE_BITS
from processors.validate.reasons import STEP_BY_NAME, Step, position_of
from processors.validate.rpki import origin_validation
from schemas.attributes import Attributes, SegmentType, interned
from schemas.decoder import constructor
from schemas.events import Reason, VerdictGroup

_GLOBAL_UNICAST_V6 = prefixes._GLOBAL_UNICAST_V6  # 2000::/3, as check_global_unicast reads it
_INVALID, _NOT_FOUND = rpki.INVALID, rpki.NOT_FOUND

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
    # batch_of() inlined: this runs once per part of an event (about two prefixes each in
    # a table), so a call less per part counts.
    batch = data._batches.get((id(policy), id(attrs)))
    if batch is None or batch.attrs is not attrs or batch.policy is not policy:
        batch = batch_of(policy, attrs, data)
    if checks is CHAIN:
        groups = _screened(batch, prefixes)
        if groups is not None:
            return groups
    per_prefix, common = _batch_checks(batch, checks)
    nets = [_parse(text) for text in prefixes]
    facts = [batch.facts(net) for net in nets if net is not None]
    outcomes: dict[Outcome, list[str]] = {}
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


# One VerdictGroup per group of a verdict: built by slot setters, in half the time of the
# frozen dataclass's __init__ (schemas.decoder.constructor).
_new_group = constructor(VerdictGroup)


def _screened(batch: Batch, prefixes: Sequence[str]) -> tuple[VerdictGroup, ...] | None:
    """The groups of CHAIN's verdict when every prefix parses and passes every per-prefix
    check (the usual case; None otherwise, and the caller runs the chain): each prefix's
    reasons are then the batch checks' (the same for all), so its outcome is its facts.

    One loop over the prefixes that parses each, works out its facts (Batch.facts
    inlined) and screens them, with what it reads of the batch in one tuple (_screen): a
    table's parts carry about two prefixes each, so the lists, calls and attribute reads
    per part cost as much as the prefixes themselves.

    The screen is conservative: it gives up whenever any check might fail, even one that
    does not apply to this client, and the checks then run as usual. It answers only where
    every check passes, so the reasons found are those the checks would find (none)."""
    screen = batch.screen
    if screen is None:
        screen = _screen(batch)
    (family, allowed, black, own_black, bogon, gate, gate_shift, gate_length, blackhole,
     performed, looks_up, vrps, origin, irr_on) = screen  # type: ignore[misc]
    v6 = family == 6
    outcomes: dict[tuple[int, bool, object, int | None], list[str]] = {}
    for text in prefixes:
        try:
            net = parse_prefix(text)
        except ValueError:
            return None
        version, value, length = net
        if version != family:  # AFI
            return None
        # Batch.facts(), with what depends on the family alone worked out by _screen()
        if looks_up:
            state = origin_validation(vrps, net, origin) if vrps is not None else _NOT_FOUND
        else:
            state = None
        irr_facts = _irr_facts(batch, net, state) if irr_on else None
        if not performed:
            state = None
        if (
            (v6 and value >> 125 != _GLOBAL_UNICAST_V6)  # global unicast
            or state == _INVALID  # RPKI
            or (length not in allowed and not blackhole)  # prefix length
            or (irr_facts is not None and not irr_facts.validated_by  # IRR origin, prefix
                and not (irr_facts.origin_ok and irr_facts.prefix_ok))
            or (black is not None and black(net) is not None)  # global black list
            or (own_black is not None and own_black(net) is not None)  # client black list
            # bogons: PrefixList.match's first test (its gate) inlined, which most
            # prefixes fail, so most never make the call
            or ((gate is None or length < gate_length or value >> gate_shift in gate)
                and bogon(net) is not None)
        ):
            return None
        key = (family, blackhole, irr_facts, state)
        members = outcomes.get(key)
        if members is None:
            outcomes[key] = [text]
        else:
            members.append(text)
    made = batch.runs  # its keys (a version first) never equal a chain's (checks): Batch.runs
    groups = []
    for key, members in outcomes.items():
        group = made.get(key)
        if group is None:
            group = made[key] = _screened_group(batch, key)
        groups.append(_new_group(tuple(members), *group))  # type: ignore[misc]
    return tuple(groups)


def _screen(batch: Batch) -> tuple[object, ...]:
    """What _screened() reads of a batch, once per batch: the per-prefix checks' parameters
    and the inputs of Batch.facts() for a prefix of the client's family (the only one that
    passes the AFI check): whether it is a blackhole request, and so whether origin
    validation is performed, or looked up for the IRR step only."""
    policy = batch.policy
    family = batch.family
    bogons = batch.data.bogons.rules
    blackhole = batch.blackhole[family]
    performed = batch.validates_origin and not blackhole
    batch.screen = screen = (
        family,
        policy.allowed_lengths[family],
        policy.global_black_list.match if policy.global_black_list else None,
        policy.client_black_list.match if policy.client_black_list else None,
        bogons.match,
        bogons.gates[family],
        BITS[family] - GATE_BITS[family],
        GATE_BITS[family],
        blackhole,
        performed,
        performed or batch.roa_validates,
        batch.vrps,
        batch.origin,
        batch.irr_lists is not None,
    )
    return screen


def _screened_group(batch: Batch, key: tuple[int, bool, object, int | None]
                    ) -> tuple[bool, tuple[Reason, ...], Attributes]:
    """A screened outcome's accepted flag, reasons and attributes, as _groups() makes
    them for the outcome (the batch checks' reasons, then the facts), without the
    VerdictGroup _groups() would build only to be read back."""
    _per_prefix, common = _batch_checks(batch, CHAIN)
    reasons = _ordered(common) if common else ()
    first = STEP_BY_NAME[reasons[0].name] if reasons else None
    version, blackhole, irr_facts, state = key
    attributes = _imported(batch, first, version, blackhole, irr_facts, state)
    return _accepted(batch.policy, first), reasons, attributes


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
        per_prefix, per_batch = _active(batch.policy, checks)
        if checks is CHAIN and _passes_batch_checks(batch):
            common = []
        else:
            common = [r for c in per_batch if (r := c.run(batch)) is not None]  # type: ignore[call-arg]
        found = batch.runs[key] = (per_prefix, common)
    return found  # type: ignore[return-value]


def _passes_batch_checks(batch: Batch) -> bool:
    """Whether the batch passes every batch check of CHAIN, found from what Batch has
    worked out, without a call per check (which came to 1.3 µs an attribute set besides
    the invalid-ASN walk; most sets pass them all). Conservative, as _screened() is: False
    whenever a check might fail (a path other than one AS_SEQUENCE, an ASN not known valid
    yet), even one that does not apply to the client, and the checks then run as usual;
    so the reasons are those the checks would find (none) where it answers True."""
    policy = batch.policy
    as_path = batch.attrs.as_path
    path_set = batch.path_set
    next_hops = policy.next_hops
    return (
        len(as_path) == 1 and as_path[0].type == _AS_SEQUENCE  # check_as_set
        and policy.rs_as not in path_set  # check_rs_as
        and (next_hops is None or batch.next_hop in next_hops)  # check_next_hop
        and batch.path_length <= policy.max_as_path_len  # check_length
        and batch.first_asn == policy.asn  # check_left_most
        and path_set.isdisjoint(policy.transit_free)  # check_transit_free
        and path_set.isdisjoint(policy.never_via)  # check_never_via
        and _valid_asns(path_set)  # check_invalid_asn
    )


# The batch checks of CHAIN that _passes_batch_checks() stands in for. If CHAIN gains
# another, this fails at import: _passes_batch_checks() must learn when it can fail.
assert {c.step for c in CHAIN if not c.per_prefix} == {
    Step.AS_SET, Step.RS_AS_IN_PATH, Step.NEXT_HOP, Step.AS_PATH_LENGTH, Step.LEFT_MOST_ASN,
    Step.INVALID_ASN, Step.TRANSIT_FREE, Step.NEVER_VIA_RS,
}, "_passes_batch_checks() screens the batch checks of CHAIN"
_AS_SEQUENCE = SegmentType.AS_SEQUENCE
# ASNs that aspath.invalid_asn() found valid: a path whose ASNs are all here passes
# check_invalid_asn, so its screen is one subset test in C instead of walking the nine
# invalid ranges for each ASN (1.3 µs an attribute set; most ASNs recur across sets).
# Cleared when full, so it stays bounded; an ASN's validity never changes.
_VALID_ASNS: set[int] = set()
_VALID_ASNS_LIMIT = 1 << 18


def _valid_asns(path_set: frozenset[int]) -> bool:
    """Whether every ASN of the path is valid by aspath.invalid_asn(), learning those not
    seen before."""
    if path_set <= _VALID_ASNS:
        return True
    if len(_VALID_ASNS) >= _VALID_ASNS_LIMIT:
        _VALID_ASNS.clear()
    valid = True
    for asn in path_set - _VALID_ASNS:
        if aspath.invalid_asn(asn) is None:
            _VALID_ASNS.add(asn)
        else:
            valid = False
    return valid


# client policy -> CHAIN's per-prefix and batch checks that apply to it (_active): they
# depend on the policy alone, and asking each check costs a call per check and batch. Weak,
# so that the policies of an old configuration go with it.
_ACTIVE: WeakKeyDictionary[ClientPolicy, tuple[list[Check], list[Check]]] = WeakKeyDictionary()


def _active(policy: ClientPolicy, checks: Sequence[Check]) -> tuple[list[Check], list[Check]]:
    """The per-prefix checks and the batch checks that apply to the client, in order."""
    if checks is CHAIN:
        hit = _ACTIVE.get(policy)
        if hit is not None:
            return hit
    active = [c for c in checks if c.applies(policy)]
    per_prefix = [c for c in active if c.per_prefix]
    per_batch = [c for c in active if not c.per_prefix]
    if checks is CHAIN:
        _ACTIVE[policy] = (per_prefix, per_batch)
    return per_prefix, per_batch


def _prefix_reasons(
    batch: Batch, per_prefix: list[Check], facts: list[Facts]
) -> dict[int, list[Reason]]:
    """Reasons by index in `facts`, from every per-prefix check run over them all."""
    found: dict[int, list[Reason]] = {}
    for check in per_prefix:
        for index, reason in check.run(batch, facts):  # type: ignore[call-arg]
            found.setdefault(index, []).append(reason)
    return found


# The per-prefix checks of CHAIN that _screened() stands in for. If CHAIN gains another,
# this fails at import: _screened() must learn when the new check can fail first.
assert {c.step for c in CHAIN if c.per_prefix} == {
    Step.AFI, Step.NOT_GLOBAL_UNICAST, Step.GLOBAL_BLACK_LIST, Step.CLIENT_BLACK_LIST,
    Step.BOGON, Step.IRR_ORIGIN, Step.IRR_PREFIX, Step.RPKI_INVALID, Step.PREFIX_LENGTH,
}, "_screened() screens the per-prefix checks of CHAIN"


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
    policy = batch.policy
    groups = []
    for (reasons, first, version, blackhole, irr_facts, state), members in outcomes.items():
        attributes = _imported(batch, first, version, blackhole, irr_facts, state)
        groups.append(VerdictGroup(tuple(members), _accepted(policy, first), reasons, attributes))
    return tuple(groups)


def _imported(batch: Batch, first: Step | None, version: int, blackhole: bool,
              irr_facts: object, state: int | None) -> Attributes:
    """The import policy's attributes for an outcome. They depend on the batch and these
    only: computed once per batch, so groups with the same outcome share one Attributes,
    in this verdict and the next ones of the same attribute set."""
    shared = batch.imported
    key = (first, version, blackhole, irr_facts, state)
    attributes = shared.get(key)
    if attributes is None:
        # interned once here, so that the processor's interned() of every verdict's
        # groups finds it kept by its id instead of hashing it by value each time
        attributes = shared[key] = interned(import_attributes(
            batch.policy,
            batch.base,
            version,
            blackhole,
            irr_facts,  # type: ignore[arg-type]
            state,
            first,
        ))
    return attributes


def _accepted(policy: ClientPolicy, first: Step | None) -> bool:
    """`tag` keeps a failing route (tagged, with LOCAL_PREF 1, never exported); a route
    that cannot be placed (not a client, a malformed prefix) is never kept."""
    if first is None:
        return True
    return policy.keeps_rejects and first not in (Step.NOT_A_CLIENT, Step.MALFORMED_PREFIX)
