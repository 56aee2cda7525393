"""The lab's public API in one import: peers, their parameters, the route view and the LAN.

from tests.lab.peers import BirdPeer, GobgpPeer, ExabgpPeer, Neighbor, PeerSpec, Route, RouteView
"""

from tests.lab.base import Peer, PeerError
from tests.lab.bird_peer import BirdPeer, parse_show_route
from tests.lab.exabgp_peer import ExabgpPeer
from tests.lab.gobgp_peer import GobgpPeer
from tests.lab.netns import Host, IxpLan, LoopbackLan, cleanup_stale
from tests.lab.raw import RawSession
from tests.lab.spec import Family, Neighbor, Origin, PeerSpec, Route, RouteView

__all__ = [
    "BirdPeer",
    "ExabgpPeer",
    "Family",
    "GobgpPeer",
    "Host",
    "IxpLan",
    "LoopbackLan",
    "Neighbor",
    "Origin",
    "Peer",
    "PeerError",
    "PeerSpec",
    "RawSession",
    "Route",
    "RouteView",
    "cleanup_stale",
    "parse_show_route",
]
