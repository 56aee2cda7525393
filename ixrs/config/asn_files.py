"""Local files of ASNs: ixrs's stand-in for lists arouteserver fetches from PeeringDB.

The format is one or more ASNs a line, separated by blanks or commas, with or without the "AS"
prefix; `#` starts a comment:

    # networks that ask never to be reached via route servers
    AS8075, AS15169
    32934
"""

import os
from dataclasses import dataclass

from ixrs.config.errors import ConfigError
from ixrs.config.node import Node
from ixrs.config.values import MAX_ASN, is_decimal, text


@dataclass(frozen=True)
class AsnsFile:
    """The file as named in the configuration, and the ASNs read from it (sorted, unique).

    The ASNs are kept in the normalized configuration so that a replay does not depend on the
    file still being there.
    """

    path: str
    asns: tuple[int, ...]


def asns_file(node: Node) -> AsnsFile:
    """Parse the option naming the file; a relative path is relative to the YAML file."""
    written = text(node).strip()
    full = os.path.join(os.path.dirname(node.file), os.path.expanduser(written))
    try:
        with open(full, encoding="utf-8") as stream:
            content = stream.read()
    except FileNotFoundError:
        raise node.error(f"file not found: {full}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise node.error(f"cannot read {full}: {exc}") from None
    return AsnsFile(written, read_asns(content, full))


def read_asns(content: str, path: str) -> tuple[int, ...]:
    asns: set[int] = set()
    for number, line in enumerate(content.splitlines(), start=1):
        for token in line.split("#", 1)[0].replace(",", " ").split():
            digits = token[2:] if token[:2].upper() == "AS" else token
            if not is_decimal(digits) or not 1 <= int(digits) <= MAX_ASN:
                raise ConfigError(path, f"line {number}", f"invalid ASN {token!r}")
            asns.add(int(digits))
    return tuple(sorted(asns))
