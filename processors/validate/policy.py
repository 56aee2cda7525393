"""What the import policy changes on a route: the attributes a verdict carries.

In arouteserver's BIRD filter the changes are made along the chain, which stops at the
first failing check; ixrs runs every check, and makes a change only if no check before it
failed, so the attributes are the ones BIRD would hold:

1. always: the route server's own communities are scrubbed (RFC 7454 §11), and so are
   RFC 8097 states (RFC 8097 §2: not accepted from an eBGP peer); the client's
   `attach_custom_communities` are added; a received LOCAL_PREF is dropped (RFC 4271
   §5.1.5: LOCAL_PREF is not taken from an external peer);
2. at the IRR step, with `tag_as_set`: origin/prefix (not) present in AS-SET, validated via
   RPKI ROAs or via the white list;
3. at the RPKI step: the RFC 8097 state and the configured state community, or the
   `*_not_performed` communities (RPKI off, or a blackhole request; ASPA is never performed);
4. after every check passed: GRACEFUL_SHUTDOWN (RFC 8326) sets LOCAL_PREF to
   `graceful_shutdown.local_pref` where enabled for the client, and is removed where
   general.yml enables it but the client does not; a blackhole request gets the blackhole
   policy (blackhole.py);
5. LOCAL_PREF is then 100 (BIRD's default for eBGP routes), the graceful-shutdown value, or,
   for a route tagged by `tag`/`tag_and_reject`, 1 with the reject-cause communities of the
   first failing check (arouteserver's `tag_and_reject()`).
"""

from __future__ import annotations

from dataclasses import replace

from processors.validate.blackhole import apply_policy
from processors.validate.client import DEFAULT_LOCAL_PREF, ClientPolicy, IrrPolicy, RpkiPolicy
from processors.validate.communities import (
    GRACEFUL_SHUTDOWN,
    NO_TAGS,
    Tags,
    rfc8097,
    with_local_pref,
)
from processors.validate.irr import VALIDATED_BY_ROAS, VALIDATED_BY_WHITE_LIST, IrrFacts
from processors.validate.reasons import AFTER_CHECKS, IRR_TAGS_AT, RPKI_TAGS_AT, Step
from schemas.attributes import Attributes

TAGGED_LOCAL_PREF = 1  # arouteserver: below any valid route, even without path hiding


def received(policy: ClientPolicy, attrs: Attributes) -> Attributes:
    """The attributes the chain starts from (step 1; LOCAL_PREF is set in step 5)."""
    return policy.custom.apply(policy.scrub.scrub(attrs, rfc8097_too=True))


def import_attributes(
    policy: ClientPolicy,
    base: Attributes,
    version: int,
    blackhole: bool,
    irr: IrrFacts | None,
    rpki: int | None,
    first_failure: Step | None,
) -> Attributes:
    # The communities added depend on the policy and the facts alone, not on the attribute
    # set: worked out once per distinct outcome (_tags), not once per attribute set.
    key = (id(policy), first_failure, blackhole, irr, rpki)
    hit = _TAGS.get(key)
    if hit is not None and hit[0] is policy:
        tags = hit[1]
    else:
        tags = _tags(policy, blackhole, irr, rpki, first_failure)
        if len(_TAGS) >= _TAGS_LIMIT:
            _TAGS.clear()
        _TAGS[key] = (policy, tags)
    if first_failure is not None:
        # The reject-cause communities are in `tags` already: one new Attributes.
        local_pref = TAGGED_LOCAL_PREF if policy.tags_rejects else DEFAULT_LOCAL_PREF
        return tags.apply_with(base, local_pref)
    if blackhole:
        attrs = apply_policy(policy.blackhole, version, tags.apply(base))
        return with_local_pref(attrs, DEFAULT_LOCAL_PREF)  # replace(), without its cost per field
    if policy.gshut_enabled and (GRACEFUL_SHUTDOWN in base.communities
                                 or GRACEFUL_SHUTDOWN in tags.std):
        attrs, local_pref = _graceful_shutdown(policy, tags.apply(base))
        return with_local_pref(attrs, local_pref)
    # Without GRACEFUL_SHUTDOWN among the communities the tags leave, step 4 changes nothing.
    return tags.apply_with(base, DEFAULT_LOCAL_PREF)


# (id of the client policy, first failing step, blackhole, IRR facts, RPKI state) ->
# (the policy, the communities import_attributes adds). Keyed by the policy's identity,
# checked on a hit (an id can be reused once its policy is gone); few distinct keys (the
# clients times their outcomes), cleared when full so that old policies go.
_TAGS: dict[tuple[object, ...], tuple[ClientPolicy, Tags]] = {}
_TAGS_LIMIT = 4096


def _tags(
    policy: ClientPolicy,
    blackhole: bool,
    irr: IrrFacts | None,
    rpki: int | None,
    first_failure: Step | None,
) -> Tags:
    """The communities steps 2, 3 and, for a tagged route, 5 add, in the chain's order.
    Adding one set after another adds what adding them joined would (_union keeps the
    first of each value, in order)."""
    reached = AFTER_CHECKS if first_failure is None else first_failure.position
    tags = NO_TAGS
    if irr is not None and policy.irr is not None and policy.irr.tag and reached >= IRR_TAGS_AT:
        tags = tags + _irr_tags(policy.irr, irr)
    if reached >= RPKI_TAGS_AT:
        tags = tags + _rpki_tags(policy.rpki, blackhole, rpki)
    if first_failure is not None and policy.tags_rejects:
        assert policy.tagging is not None
        tags = tags + policy.tagging.tags(first_failure.code)
    return tags


def _irr_tags(policy: IrrPolicy, irr: IrrFacts) -> Tags:
    tags = policy.origin_present if irr.origin_ok else policy.origin_not_present
    tags = tags + (policy.prefix_present if irr.prefix_ok else policy.prefix_not_present)
    if irr.validated_by == VALIDATED_BY_ROAS:
        return tags + policy.via_roas
    if irr.validated_by == VALIDATED_BY_WHITE_LIST:
        return tags + policy.via_white_list
    return tags


def _rpki_tags(policy: RpkiPolicy, blackhole: bool, state: int | None) -> Tags:
    if blackhole or not policy.enabled or state is None:
        return policy.not_performed + policy.aspa_not_performed
    return Tags(ext=(rfc8097(state),)) + policy.state_tags[state] + policy.aspa_not_performed


def _graceful_shutdown(policy: ClientPolicy, attrs: Attributes) -> tuple[Attributes, int]:
    if GRACEFUL_SHUTDOWN not in attrs.communities:
        return attrs, DEFAULT_LOCAL_PREF
    if policy.gshut_honored:
        return attrs, policy.gshut_local_pref
    kept = tuple(c for c in attrs.communities if c != GRACEFUL_SHUTDOWN)
    return replace(attrs, communities=kept), DEFAULT_LOCAL_PREF
