"""The one exception the codec raises, and the NOTIFICATION codes it carries.

A :class:`BgpError` is a session-reset error: its ``code``/``subcode``/``data``
are exactly what goes into the NOTIFICATION that closes the session (RFC 4271
§4.5, §6). The gentler RFC 7606 outcomes (treat-as-withdraw, attribute discard)
are not exceptions: the decoded UPDATE carries them as notes.
"""

from __future__ import annotations

from enum import IntEnum

# RFC 9003 §2: the Shutdown Communication is at most 255 octets of UTF-8.
MAX_SHUTDOWN_COMMUNICATION = 255


class ErrorCode(IntEnum):
    """NOTIFICATION error codes (RFC 4271 §4.5, RFC 7313 §5, RFC 9687 §3)."""

    MESSAGE_HEADER = 1
    OPEN_MESSAGE = 2
    UPDATE_MESSAGE = 3
    HOLD_TIMER_EXPIRED = 4
    FSM = 5
    CEASE = 6
    ROUTE_REFRESH = 7
    SEND_HOLD_TIMER_EXPIRED = 8


class HeaderSubcode(IntEnum):
    """Message Header Error subcodes (RFC 4271 §6.1)."""

    CONNECTION_NOT_SYNCHRONIZED = 1
    BAD_MESSAGE_LENGTH = 2
    BAD_MESSAGE_TYPE = 3


class OpenSubcode(IntEnum):
    """OPEN Message Error subcodes (RFC 4271 §6.2, RFC 5492 §5, RFC 9234 §4.2)."""

    UNSPECIFIC = 0
    UNSUPPORTED_VERSION = 1
    BAD_PEER_AS = 2  # decided by the session, which knows the configured peer AS
    BAD_BGP_IDENTIFIER = 3
    UNSUPPORTED_OPTIONAL_PARAMETER = 4
    UNACCEPTABLE_HOLD_TIME = 6
    UNSUPPORTED_CAPABILITY = 7
    ROLE_MISMATCH = 11


class UpdateSubcode(IntEnum):
    """UPDATE Message Error subcodes (RFC 4271 §6.3)."""

    MALFORMED_ATTRIBUTE_LIST = 1
    UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE = 2
    MISSING_WELL_KNOWN_ATTRIBUTE = 3
    ATTRIBUTE_FLAGS_ERROR = 4
    ATTRIBUTE_LENGTH_ERROR = 5
    INVALID_ORIGIN_ATTRIBUTE = 6
    INVALID_NEXT_HOP_ATTRIBUTE = 8
    OPTIONAL_ATTRIBUTE_ERROR = 9
    INVALID_NETWORK_FIELD = 10
    MALFORMED_AS_PATH = 11


class FsmSubcode(IntEnum):
    """Finite State Machine Error subcodes (RFC 6608 §4)."""

    UNSPECIFIED = 0
    UNEXPECTED_IN_OPEN_SENT = 1
    UNEXPECTED_IN_OPEN_CONFIRM = 2
    UNEXPECTED_IN_ESTABLISHED = 3


class CeaseSubcode(IntEnum):
    """Cease subcodes (RFC 4486 §4, RFC 8538 §3, RFC 9384)."""

    MAX_PREFIXES_REACHED = 1
    ADMINISTRATIVE_SHUTDOWN = 2
    PEER_DECONFIGURED = 3
    ADMINISTRATIVE_RESET = 4
    CONNECTION_REJECTED = 5
    OTHER_CONFIGURATION_CHANGE = 6
    CONNECTION_COLLISION_RESOLUTION = 7
    OUT_OF_RESOURCES = 8
    HARD_RESET = 9
    BFD_DOWN = 10


class RouteRefreshSubcode(IntEnum):
    """ROUTE-REFRESH Message Error subcodes (RFC 7313 §5)."""

    INVALID_MESSAGE_LENGTH = 1


class BgpError(Exception):
    """A protocol error that ends the session with a NOTIFICATION."""

    def __init__(self, code: int, subcode: int, data: bytes = b"", reason: str = "") -> None:
        super().__init__(code, subcode, data, reason)
        self.code = code
        self.subcode = subcode
        self.data = data
        self.reason = reason

    def __str__(self) -> str:
        text = f"BGP error {self.code}/{self.subcode}"
        return f"{text}: {self.reason}" if self.reason else text


class Malformed(Exception):
    """Internal: a field failed to parse. Never leaves the codec; callers turn it
    into a BgpError or an RFC 7606 note."""


def decode_shutdown_communication(data: bytes) -> str | None:
    """The operator's message in an Administrative Shutdown/Reset Cease.

    RFC 9003 §2: one length octet, then that many octets of UTF-8. Returns None
    when there is none, or when it is malformed (§4: log it, do not act on it).
    """
    if not data:
        return None
    length = data[0]
    if length == 0 or length + 1 > len(data):
        return None
    try:
        return data[1 : 1 + length].decode("utf-8")
    except UnicodeDecodeError:
        return None


def encode_shutdown_communication(text: str) -> bytes:
    """The Cease data for ``text``, cut at a character boundary to 255 octets."""
    raw = text.encode("utf-8")[:MAX_SHUTDOWN_COMMUNICATION]
    raw = raw.decode("utf-8", errors="ignore").encode("utf-8")
    return bytes((len(raw),)) + raw
