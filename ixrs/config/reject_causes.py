"""arouteserver's reject cause codes.

A route the policy refuses carries one of these codes in the last part of the `reject_cause`
community (when `reject_policy.policy` is `tag` or `tag_and_reject`), and
`communities.reject_cause_map` is keyed by them. The codes are arouteserver's documented
interface (CONFIG.html, "Reject reasons"), so they must not be renumbered.
"""

from types import MappingProxyType

REJECT_CAUSES = MappingProxyType(
    {
        1: "invalid AS_PATH length",
        2: "prefix is a bogon",
        3: "prefix is in the global black list",
        4: "invalid AFI",
        5: "invalid NEXT_HOP",
        6: "invalid left-most ASN",
        7: "invalid ASN in AS_PATH",
        8: "transit-free ASN in AS_PATH",
        9: "origin ASN not in the IRR AS-SETs",
        10: "IPv6 prefix not in global unicast space",
        11: "prefix is in the client's black list",
        12: "prefix not in the IRR AS-SETs",
        13: "invalid prefix length",
        14: "RPKI INVALID route",
        15: "never-via-route-servers ASN in AS_PATH",
        16: "ASPA INVALID AS_PATH",
    }
)
