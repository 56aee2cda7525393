"""What one case needs before anything runs: the peers' tables, their BIRD configurations,
and the route servers' general.yml/clients.yml plus the BIRD route server built from them by
``arouteserver bird``.

Every file is written once per case; both route servers read the same general.yml and
clients.yml.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import yaml

from benchmarks.fulltable.table import AttrSet, Table, assign, make_attr_sets, make_prefixes
from tests.interop.reference import build_bird_config

ROOT = Path(__file__).resolve().parents[2]
RS_AS = 59900
RS_ADDRESS = "192.0.2.1"
MONITOR_AS = 20100
MONITOR_ADDRESS = "192.0.2.2"
FIRST_INJECTOR_AS = 20002
# The arouteserver-built configuration logs every route (``debug protocols { routes, ... }``)
# to /var/log/bird.log and syslog: with a million routes that is BIRD's main cost and
# gigabytes of log, which no production route server runs with. Only these lines change.


@dataclass(frozen=True)
class Injector:
    index: int  # 0-based
    asn: int
    address: str
    table: Table


def injector_asn(index: int) -> int:
    return FIRST_INJECTOR_AS + index


def injector_address(index: int) -> str:
    return f"192.0.2.{3 + index}"


def attr_sets(count: int, peer_asn: int, avoid: set[int], rnd: random.Random) -> list[AttrSet]:
    """``make_attr_sets`` without any path through a participant's ASN: BIRD drops a route
    whose path holds its own ASN (the BIRD route server's and the monitor's loop check), so
    such routes would never reach the monitor and the two route servers would differ."""
    wanted = count
    while True:
        sets = [s for s in make_attr_sets(wanted, peer_asn, rnd) if not avoid & set(s.path)]
        if len(sets) >= count:
            return sets[:count]
        wanted += 2 * (count - len(sets))


def make_injectors(peers: int, prefixes: int, sets: int, seed: int) -> list[Injector]:
    """Distinct prefixes per injector (bgperf's default), so the monitor holds peers x
    prefixes routes; each injector has attribute sets of its own (its ASN leads the path)."""
    rnd = random.Random(seed)
    pool = make_prefixes(peers * prefixes, rnd)
    avoid = {RS_AS, MONITOR_AS} | {injector_asn(i) for i in range(peers)}
    out = []
    for i in range(peers):
        own = pool[i * prefixes:(i + 1) * prefixes]
        asn = injector_asn(i)
        table = Table(own, attr_sets(sets, asn, avoid, rnd), assign(prefixes, sets, rnd))
        out.append(Injector(i, asn, injector_address(i), table))
    return out


def write_monitor_config(directory: Path) -> Path:
    """A BIRD client that announces nothing and imports everything; its session starts
    disabled and is enabled once the route server under test is up."""
    directory.mkdir(parents=True, exist_ok=True)
    conf = directory / "bird.conf"
    conf.write_text(
        "log stderr { warning, error, fatal, bug };\n"
        f"router id {MONITOR_ADDRESS};\n"
        "protocol device { scan time 10; }\n"
        "protocol bgp routeserver {\n"
        "  disabled;\n"
        f"  local {MONITOR_ADDRESS} as {MONITOR_AS};\n"
        f"  neighbor {RS_ADDRESS} as {RS_AS};\n"
        "  strict bind yes;\n"
        "  hold time 90;\n"
        "  connect delay time 1;\n"
        "  connect retry time 2;\n"
        "  ipv4 { import all; export none; };\n"
        "}\n"
    )
    return conf


def write_rs_config(directory: Path, injectors: list[Injector], total: int) -> tuple[Path, Path]:
    """general.yml (the example's, without RPKI and with room for the table) and clients.yml.

    RPKI is off because neither route server has VRPs here (ixrs would see every route as
    unknown, BIRD would need an RTR cache); IRR enforcement is already off in the example.
    The max-prefix limit is raised above the largest table: the example sets no action, so
    neither route server enforces its 170,000 today, but one that does must not stop the
    500,000-prefix sessions."""
    general = yaml.safe_load((ROOT / "examples" / "general.yml").read_text())
    filtering = general["cfg"]["filtering"]
    filtering["rpki_bgp_origin_validation"]["enabled"] = False
    filtering["max_prefix"]["general_limit_ipv4"] = max(total, 170000) + 100000
    general_path = directory / "general.yml"
    general_path.write_text(yaml.safe_dump(general, sort_keys=False))
    clients = [{"asn": MONITOR_AS, "ip": MONITOR_ADDRESS, "description": "monitor"}]
    clients += [{"asn": inj.asn, "ip": inj.address, "description": f"injector {inj.index + 1}"}
                for inj in injectors]
    clients_path = directory / "clients.yml"
    clients_path.write_text(yaml.safe_dump({"clients": clients}, sort_keys=False))
    return general_path, clients_path


def build_bird_rs(directory: Path, general: Path, clients: Path) -> Path:
    """``arouteserver bird`` offline (BGP-LAB.md), target 2.0.11, IPv4, logging warnings
    only (arouteserver's header logs every route); returns bird.conf."""
    return build_bird_config(directory, general, clients, ip_version=4, quiet=True)
