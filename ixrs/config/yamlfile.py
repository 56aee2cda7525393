"""Reading a YAML file into plain Python values, with errors that point at a line."""

from typing import Any

import yaml

from ixrs.config.errors import ConfigError

# The C loader matters for IXPs with a thousand clients; the pure-Python one behaves the same.
_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

FILE_FIELD = "(file)"


class _StrictLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    """A safe loader that refuses duplicate keys.

    PyYAML keeps the last of two equal keys without a word; in a route server policy that hides
    a mistake, so it is an error here (arouteserver accepts it).
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_yaml(path: str) -> Any:
    """The document in `path`; ConfigError when it is missing or is not valid YAML."""
    try:
        with open(path, encoding="utf-8") as stream:
            text = stream.read()
    except FileNotFoundError:
        raise ConfigError(path, FILE_FIELD, "file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, FILE_FIELD, f"cannot read: {exc}") from None
    return parse_yaml(text, path)


def parse_yaml(text: str, path: str) -> Any:
    try:
        return yaml.load(text, Loader=_StrictLoader)  # a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}" if mark else FILE_FIELD
        problem = exc.problem or exc.context or "invalid YAML"
        if "!include" in problem:
            problem += " (arouteserver's '!include' is not supported by ixrs)"
        raise ConfigError(path, where, f"invalid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(path, FILE_FIELD, f"invalid YAML: {exc}") from None
