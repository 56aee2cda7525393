"""The steps of the import filter chain: their order, reject-cause codes and names.

Positions follow the order of arouteserver's BIRD import filter (templates/bird/clients.j2,
`receive_from_<client>`). The order matters for two things only: the order in which a verdict
lists its reasons, and which code the reject-cause community carries in `tag` mode, where
arouteserver stops at the first failing check. Which checks fail never depends on it.

Codes are arouteserver's documented reject causes (ixrs.config.reject_causes): they end up in
the last part of the `reject_cause` community, so they must not be renumbered. 65535 is what
arouteserver uses for everything outside the numbered causes (AFI not enabled, AS_SET, ...).
"""

from __future__ import annotations

from enum import Enum

from schemas.events import Reason

GENERIC = 65535


class Step(Enum):
    """(position in the chain, reject-cause code, reason name)."""

    # A session that is not (or no longer) a client of this configuration version.
    NOT_A_CLIENT = (0, GENERIC, "not_a_client")
    # BIRD refuses AS_SET at the session (`allow as sets off`), before any filter runs.
    AS_SET = (1, GENERIC, "as_set_in_as_path")
    # BIRD's loop detection (RFC 4271 §9.1.2): a path holding the route server's own ASN is
    # dropped at the session (`allow local as` is off), after the AS_SET check of decoding.
    RS_AS_IN_PATH = (2, GENERIC, "rs_as_in_as_path")
    MALFORMED_PREFIX = (3, GENERIC, "malformed_prefix")
    AFI = (4, GENERIC, "afi_not_enabled")
    NEXT_HOP = (5, 5, "invalid_next_hop")
    AS_PATH_LENGTH = (6, 1, "as_path_too_long")
    LEFT_MOST_ASN = (7, 6, "invalid_left_most_asn")
    INVALID_ASN = (8, 7, "invalid_asn_in_as_path")
    TRANSIT_FREE = (9, 8, "transit_free_asn_in_as_path")
    NEVER_VIA_RS = (10, 15, "never_via_route_servers_asn")
    NOT_GLOBAL_UNICAST = (11, 10, "ipv6_not_global_unicast")
    GLOBAL_BLACK_LIST = (12, 3, "in_global_black_list")
    CLIENT_BLACK_LIST = (13, 11, "in_client_black_list")
    BOGON = (14, 2, "bogon")
    IRR_ORIGIN = (15, 9, "origin_not_in_as_set")
    IRR_PREFIX = (16, 12, "prefix_not_in_as_set")
    RPKI_INVALID = (17, 14, "rpki_invalid")
    PREFIX_LENGTH = (18, 13, "invalid_prefix_length")

    def __init__(self, position: int, code: int, reason_name: str) -> None:
        self.position = position
        self.code = code
        self.reason_name = reason_name

    def reason(self, detail: str) -> Reason:
        return Reason(self.code, self.reason_name, detail)


# Where the import policy changes attributes, relative to the checks (see policy.py): a
# change is made only if no check before it failed, as the BIRD filter stops at the first.
IRR_TAGS_AT = Step.IRR_ORIGIN.position  # added before the IRR rejects, so kept with them
RPKI_TAGS_AT = Step.RPKI_INVALID.position  # likewise before the RPKI reject
AFTER_CHECKS = Step.PREFIX_LENGTH.position + 1

STEP_BY_NAME = {step.reason_name: step for step in Step}


def position_of(reason: Reason) -> int:
    return STEP_BY_NAME[reason.name].position
