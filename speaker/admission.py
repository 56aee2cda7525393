"""Who may talk to the route server, and what it says to the rest. Pure.

Peers are checked against ``clients.yml``: an unknown address is refused with
Cease/Connection Rejected (RFC 4486), a wrong AS in the OPEN gets OPEN Message
Error/Bad Peer AS. Both are logged and recorded, rate-limited per address so that
a scanner cannot flood the log.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field

from ixrs.config import Client, RouteServerConfig
from speaker.codec import (
    AS_TRANS,
    BgpError,
    EnhancedRouteRefresh,
    ErrorCode,
    ExtendedMessage,
    FourOctetAs,
    Multiprotocol,
    Open,
    OpenSubcode,
    RouteRefreshCapability,
)


def canonical_address(address: str) -> str:
    """The address as clients.yml would name it (IPv4-mapped IPv6 unmapped)."""
    addr = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return str(addr.ipv4_mapped)
    return str(addr)


def client_for(config: RouteServerConfig, address: str) -> Client | None:
    return config.client_by_ip(canonical_address(address))


def peer_as_check(client: Client) -> Callable[[Open], BgpError | None]:
    def check(remote: Open) -> BgpError | None:
        if remote.asn() == client.asn:
            return None
        # RFC 4271 §6.2: the data is the 2-octet My AS field; RFC 6793 §4.1.
        return BgpError(ErrorCode.OPEN_MESSAGE, OpenSubcode.BAD_PEER_AS,
                        (remote.my_as & 0xFFFF).to_bytes(2, "big"),
                        f"AS{remote.asn()} in OPEN, clients.yml says AS{client.asn}")

    return check


def local_open(rs_as: int, router_id: str, hold_time: int) -> Open:
    return Open(
        my_as=rs_as if rs_as <= 0xFFFF else AS_TRANS,
        hold_time=hold_time,
        bgp_id=router_id,
        capabilities=(
            Multiprotocol(1, 1),
            Multiprotocol(2, 1),
            RouteRefreshCapability(),
            EnhancedRouteRefresh(),
            FourOctetAs(rs_as),
            ExtendedMessage(),
        ),
    )


@dataclass
class RateLimiter:
    """A token bucket per key: ``burst`` notices at once, then one per ``period`` seconds.

    ``allow`` says whether to write this notice, and how many were held back since
    the last one written, so that the record stays complete in number.
    """

    burst: int = 3
    period: float = 60.0
    _tokens: dict[str, tuple[float, float]] = field(default_factory=dict)
    _held: dict[str, int] = field(default_factory=dict)

    def allow(self, key: str, now: float) -> tuple[bool, int]:
        tokens, last = self._tokens.get(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) / self.period)
        if tokens < 1.0:
            self._tokens[key] = (tokens, now)
            self._held[key] = self._held.get(key, 0) + 1
            return False, 0
        self._tokens[key] = (tokens - 1.0, now)
        return True, self._held.pop(key, 0)
