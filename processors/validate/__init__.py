"""The import filter chain of issue 4: pure functions from routes to verdicts.

    policy = ImportPolicy(config)                  # once per configuration version
    data = PolicyData(vrps=..., irr=..., bogons=...)  # the data sets in force
    groups = validate(policy.for_peer(peer_ip), attrs, prefixes, data)
    verdict = judge(received_routes_event, position, header, policy, data)
    # a data set changed: re-validate only what may change, emit only what did
    change = data_change(old_data, new_data)
    if change.affects(client_policy, new_data, prefix): ...
    changed = changed_groups(outcomes(previous_groups), validate(..., new_data))

No I/O, no clock, no Kafka: processors and replay call the same functions and get the same
verdicts. A verdict groups the prefixes of one batch by identical outcome: accepted or not,
every reason (not only the first), and the attributes after the import policy.

`accepted` with no reasons means the route is a candidate for the decision process.
`accepted` with reasons happens only with `reject_policy: tag`: the route is kept, tagged with
the reject-cause community (value 0 and the first cause) and LOCAL_PREF 1, and must never
be exported (arouteserver's `announce_to_<client>` drops it). A route that is not accepted
is kept in the verdict all the same, with why.

The chain, in arouteserver's order (`reasons.Step`), with each step's reject-cause code and
reason name, and the data it needs besides the configuration:

| step | code | reason name | data needed |
|---|---|---|---|
| session of no client | 65535 | not_a_client | - |
| AS_SET in AS_PATH (`allow_as_set`) | 65535 | as_set_in_as_path | - |
| route server's ASN in AS_PATH (loop) | 65535 | rs_as_in_as_path | - |
| unparseable prefix | 65535 | malformed_prefix | - |
| prefix family not the session's | 65535 | afi_not_enabled | - |
| NEXT_HOP (`next_hop.policy`) | 5 | invalid_next_hop | - |
| AS_PATH length (`max_as_path_len`) | 1 | as_path_too_long | - |
| left-most ASN (RFC 7948 §4.5) | 6 | invalid_left_most_asn | - |
| reserved/private ASN in path | 7 | invalid_asn_in_as_path | - |
| transit-free ASN (action reject) | 8 | transit_free_asn_in_as_path | - |
| never via route servers | 15 | never_via_route_servers_asn | (1) |
| IPv6 outside 2000::/3 | 10 | ipv6_not_global_unicast | - |
| global black list | 3 | in_global_black_list | - |
| client black list | 11 | in_client_black_list | - |
| bogon | 2 | bogon | `bogons` data set (2) |
| origin not in AS-SETs | 9 | origin_not_in_as_set | `irr-prefixes` ASN members (3) |
| prefix not in AS-SETs | 12 | prefix_not_in_as_set | `irr-prefixes` prefix lists (3) |
| RPKI INVALID | 14 | rpki_invalid | `rpki-vrps` data set |
| prefix length | 13 | invalid_prefix_length | - |
| ASPA INVALID | 16 | - | not implemented (no ASPA data) |

(1) `never_via_route_servers.asns` plus the ixrs `asns_file`, both read into the configuration;
the PeeringDB list is not available. (2) arouteserver's default list unless one is loaded.
(3) and `rpki-vrps` where `use_rpki_roas_as_route_objects` lets a ROA validate a route.
Code 0 is no reason: it is the value of the reject_cause community that marks a tagged route
"treat as discarded".

Without their data: no VRP set makes every route RPKI NOT FOUND (as BIRD's empty ROA table),
so nothing is INVALID; an IRR list that is not loaded is empty, so with enforcement on its
client's routes fail 9/12 with "not loaded" in the detail (as arouteserver with an empty
AS-SET), until the list is loaded and they are re-validated (revalidate.py).
"""

from processors.validate.bogons import DEFAULT_BOGONS, Bogons, parse_bogons
from processors.validate.chain import CHAIN, Check, validate
from processors.validate.client import ClientPolicy, ImportPolicy, compile_client
from processors.validate.data import PolicyData
from processors.validate.reasons import Step
from processors.validate.revalidate import DataChange, changed_groups, data_change, outcomes
from processors.validate.verdict import judge

__all__ = [
    "CHAIN",
    "DEFAULT_BOGONS",
    "Bogons",
    "Check",
    "ClientPolicy",
    "DataChange",
    "ImportPolicy",
    "PolicyData",
    "Step",
    "changed_groups",
    "compile_client",
    "data_change",
    "judge",
    "outcomes",
    "parse_bogons",
    "validate",
]
