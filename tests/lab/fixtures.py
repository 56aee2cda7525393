"""pytest fixtures and helpers for lab tests: a LAN, peers stopped at teardown, clear skips.

Use from a conftest.py:  from tests.lab.fixtures import ixp_lan, lab, loopback_lan  # noqa: F401
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TypeVar

import pytest

from tests.helpers import wait_for
from tests.lab.base import Peer
from tests.lab.bird_peer import BirdPeer
from tests.lab.exabgp_peer import ExabgpPeer, exabgp_binary
from tests.lab.gobgp_peer import GobgpPeer
from tests.lab.netns import (
    DEFAULT_PREFIX,
    Host,
    IxpLan,
    LoopbackLan,
    cleanup_stale,
    netns_available,
)
from tests.lab.spec import PeerSpec

__all__ = ["Lab", "ixp_lan", "lab", "lab_skip_reason", "loopback_lan", "require_tools", "wait_for"]

P = TypeVar("P", bound=Peer)

_TOOLS = {
    "bird": ("bird", "birdc"),
    "gobgp": ("gobgpd", "gobgp"),
    "exabgp": ("exabgp",),
}


def missing_tools(*names: str) -> list[str]:
    """Which of the programs (or peer kinds: "bird", "gobgp", "exabgp") are not installed."""
    wanted = [tool for name in names for tool in _TOOLS.get(name, (name,))]
    found = {"exabgp": exabgp_binary()}
    return [t for t in wanted if not (found[t] if t in found else shutil.which(t))]


def lab_skip_reason(*tools: str, netns: bool = True) -> str | None:
    """Why a lab test cannot run here (not root, no `ip netns`, a tool missing), or None."""
    if netns:
        reason = netns_available()
        if reason:
            return reason
    missing = missing_tools("ip", "ss", "setpriv", *tools)
    if missing:
        return f"not installed: {', '.join(missing)} (Debian bird2/gobgpd/iproute2, PyPI exabgp)"
    return None


def require_tools(*tools: str, netns: bool = True) -> None:
    reason = lab_skip_reason(*tools, netns=netns)
    if reason:
        pytest.skip(reason)


class Lab:
    """The peers started on an open LAN; close() stops every one (the LAN stays its owner's).

    with IxpLan() as lan, Lab(lan, tmp_path) as lab:
        hub = lab.bird(lab.host("hub"), PeerSpec(59900, ...))
    """

    def __init__(self, lan: IxpLan | LoopbackLan, workdir: Path) -> None:
        self.lan = lan
        self.workdir = workdir
        self.peers: list[Peer] = []

    def __enter__(self) -> Lab:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def host(self, name: str, **addresses: str | int | None) -> Host:
        return self.lan.add_host(name, **addresses)  # type: ignore[arg-type]

    def start(self, peer: P) -> P:
        # Registered before starting: a peer that fails half way is still stopped.
        self.peers.append(peer)
        peer.start()
        return peer

    def bird(self, host: Host, spec: PeerSpec) -> BirdPeer:
        require_tools("bird", netns=False)
        return self.start(BirdPeer(host, spec, self._peer_dir(host, "bird")))

    def gobgp(self, host: Host, spec: PeerSpec) -> GobgpPeer:
        require_tools("gobgp", netns=False)
        return self.start(GobgpPeer(host, spec, self._peer_dir(host, "gobgp")))

    def exabgp(
        self, host: Host, spec: PeerSpec, asn4: bool = True, log_packets: bool = False
    ) -> ExabgpPeer:
        require_tools("exabgp", netns=False)
        peer = ExabgpPeer(host, spec, self._peer_dir(host, "exabgp"), asn4, log_packets)
        return self.start(peer)

    def _peer_dir(self, host: Host, kind: str) -> Path:
        return self.workdir / f"{host.name}-{kind}"

    def close(self) -> None:
        errors = []
        for peer in reversed(self.peers):
            try:
                peer.stop()
            except Exception as exc:  # stop the others regardless
                errors.append(exc)
        self.peers.clear()
        if errors:
            raise errors[0]


@pytest.fixture
def ixp_lan() -> Iterator[IxpLan]:
    """A fresh namespace LAN (192.0.2.0/24, 2001:db8:1::/64); skips when it cannot be built."""
    require_tools()
    cleanup_stale(DEFAULT_PREFIX)
    with IxpLan(DEFAULT_PREFIX) as lan:
        yield lan


@pytest.fixture
def loopback_lan() -> Iterator[LoopbackLan]:
    """Hosts as 127.x.y.N aliases: IPv4 only, BIRD/GoBGP sessions use multihop."""
    require_tools(netns=False)
    with LoopbackLan(DEFAULT_PREFIX) as lan:
        yield lan


@pytest.fixture
def lab(ixp_lan: IxpLan, tmp_path: Path) -> Iterator[Lab]:
    """A namespace LAN plus peer factories (lab.bird/gobgp/exabgp); all stopped at teardown."""
    with Lab(ixp_lan, tmp_path) as running:
        yield running
