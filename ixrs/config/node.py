"""A value read from a configuration file, together with where it was read from.

Parsers take a Node rather than a bare value so that every error can name the file and the
dotted/indexed field (`cfg.filtering.max_as_path_len`, `clients[2].ip`).
"""

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Any

from ixrs.config.errors import ConfigError


@dataclass(frozen=True)
class Node:
    file: str
    path: str
    value: Any

    def error(self, reason: str) -> ConfigError:
        return ConfigError(self.file, self.path or "(top level)", reason)

    @property
    def absent(self) -> bool:
        """True for a missing key, a bare `key:` and an empty string.

        arouteserver treats all three alike: the option takes its default.
        """
        return self.value is None or (isinstance(self.value, str) and not self.value.strip())

    def required(self) -> "Node":
        """This node, unless it is absent: then a "missing" error."""
        if self.absent:
            raise self.error("missing (mandatory)")
        return self

    def child(self, key: str) -> "Node":
        value = self.value.get(key) if isinstance(self.value, dict) else None
        return Node(self.file, f"{self.path}.{key}" if self.path else key, value)

    def at(self, dotted: str) -> "Node":
        """The node at a dotted path below this one (`filtering.irrdb.tag_as_set`)."""
        node = self
        for key in dotted.split("."):
            node = node.child(key)
        return node

    def mapping(self, allowed: Collection[str] | None = None) -> dict[str, Any]:
        """The mapping at this node ({} when absent), refusing keys outside `allowed`."""
        if self.absent:
            return {}
        if not isinstance(self.value, dict):
            raise self.error(f"must be a mapping, not {describe(self.value)}")
        if allowed is not None:
            for key in self.value:
                if not isinstance(key, str) or key not in allowed:
                    raise self.child(str(key)).error("unknown key")
        return self.value

    def items(self, *, single_ok: bool = False) -> Iterator["Node"]:
        """The entries of a list; a lone scalar counts as a one-entry list when `single_ok`."""
        if self.absent:
            return iter(())
        if isinstance(self.value, list):
            return (Node(self.file, f"{self.path}[{i}]", v) for i, v in enumerate(self.value))
        if single_ok and not isinstance(self.value, dict):
            return iter((self,))
        raise self.error(f"must be a list, not {describe(self.value)}")


def describe(value: Any) -> str:
    """How a YAML value reads in an error message."""
    names = {dict: "a mapping", list: "a list", bool: "a boolean", str: "a string"}
    for kind, name in names.items():
        if isinstance(value, kind):
            return f"{name} ({value!r})" if kind in (bool, str) else name
    if isinstance(value, int | float):
        return f"a number ({value!r})"
    return type(value).__name__
