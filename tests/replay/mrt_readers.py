"""Reading MRT files back in tests, with three independent readers and a framing split.

- ``bgpdump -m`` (Debian's bgpdump, in C): one line per route or state change;
- ``mrtparse`` (Python): every record, every field;
- ``pybgpkit_parser`` (bgpkit-parser, in Rust): one element per prefix;
- :func:`split`: the common header and BGP4MP fields read here with struct, to get at the
  BGP message bytes byte for byte, which no reader returns.
"""

from __future__ import annotations

import ipaddress
import shutil
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mrtparse
import pybgpkit_parser

BGPDUMP = shutil.which("bgpdump") or "/usr/bin/bgpdump"


@dataclass(frozen=True)
class Bgp4mp:
    time_us: int
    subtype: int
    peer_as: int
    local_as: int
    peer_ip: str
    local_ip: str
    payload: bytes  # the BGP message, or old and new state (4 octets)


def split(data: bytes) -> list[tuple[int, int, int, bytes]]:
    """(time in µs, type, subtype, body) of every record; the _ET microseconds applied."""
    out = []
    at = 0
    while at < len(data):
        seconds, kind, subtype, length = struct.unpack_from("!IHHI", data, at)
        body = data[at + 12:at + 12 + length]
        assert len(body) == length, "a truncated record"
        micro = 0
        if kind == 17:
            micro, body = struct.unpack_from("!I", body)[0], body[4:]
        out.append((seconds * 1_000_000 + micro, kind, subtype, body))
        at += 12 + length
    return out


def bgp4mp(data: bytes) -> list[Bgp4mp]:
    out = []
    for time_us, kind, subtype, body in split(data):
        assert kind == 17, kind
        size = 4 if subtype in (4, 5, 7) else 2
        peer_as = int.from_bytes(body[:size], "big")
        local_as = int.from_bytes(body[size:2 * size], "big")
        afi = struct.unpack_from("!H", body, 2 * size + 2)[0]
        width = 16 if afi == 2 else 4
        at = 2 * size + 4
        peer = ipaddress.ip_address(body[at:at + width])
        local = ipaddress.ip_address(body[at + width:at + 2 * width])
        out.append(Bgp4mp(time_us, subtype, peer_as, local_as, str(peer), str(local),
                          body[at + 2 * width:]))
    return out


def bgpdump(path: Path) -> list[list[str]]:
    done = subprocess.run([BGPDUMP, "-m", str(path)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    return [line.split("|") for line in done.stdout.splitlines()]


def mrtparse_records(path: Path) -> list[dict[str, Any]]:
    records = []
    for entry in mrtparse.Reader(str(path)):
        assert not entry.err, entry.err_msg
        records.append(entry.data)
    return records


def bgpkit_elems(path: Path) -> list[dict[str, Any]]:
    return list(pybgpkit_parser.Parser(url=str(path)))


def key(mapping: dict[Any, Any]) -> Any:
    """mrtparse gives enumerations as {number: name}: the number."""
    [number] = mapping
    return number


def mrtparse_attributes(attributes: list[dict[str, Any]]) -> dict[str, Any]:
    """The attributes mrtparse decoded, by name: AS_PATH as text, communities as text."""
    out: dict[str, Any] = {}
    for attribute in attributes:
        name = next(iter(attribute["type"].values()))
        value = attribute["value"]
        if name == "AS_PATH":
            out[name] = " ".join(
                " ".join(seg["value"]) if key(seg["type"]) == 2 else
                "{" + ",".join(seg["value"]) + "}" for seg in value)
        else:
            out[name] = value
    return out
