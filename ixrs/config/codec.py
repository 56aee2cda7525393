"""The normalized configuration as JSON values, and back.

ixrs publishes the configuration as an event and rebuilds the policy from it on replay, so the
decoding must give back exactly the dataclasses that were encoded. The mapping is generic:
dataclass -> object (by field name), tuple -> array, community pattern -> its canonical text.
A field missing from the JSON takes its default, so that events written before a field was
added still decode; an unknown field is an error.
"""

import dataclasses
import functools
import types
import typing
from typing import Any

from ixrs.config.communities import CommunityPattern


class DecodeError(ValueError):
    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path or "(top level)"
        self.reason = reason


def to_plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, tuple):
        return [to_plain(item) for item in value]
    if isinstance(value, CommunityPattern):
        return str(value)
    return {name: to_plain(getattr(value, name)) for name in _field_names(type(value))}


@functools.cache
def _field_names(kind: type) -> tuple[str, ...]:
    if not dataclasses.is_dataclass(kind):
        raise TypeError(f"no JSON mapping for {kind!r}")
    return tuple(f.name for f in dataclasses.fields(kind))


def from_plain(kind: Any, data: Any, path: str = "") -> Any:
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        return _union(kind, data, path)
    if origin is tuple:
        (item, _) = typing.get_args(kind)
        _expect(data, list, path)
        return tuple(from_plain(item, value, f"{path}[{i}]") for i, value in enumerate(data))
    if kind is CommunityPattern:
        _expect(data, str, path)
        return _pattern(data, path)
    if dataclasses.is_dataclass(kind):
        return _dataclass(kind, data, path)
    if kind in (bool, int, str):
        # bool is an int in Python; JSON keeps them apart, and so must the decoder.
        if type(data) is not kind:
            raise DecodeError(path, f"expected {kind.__name__}, got {type(data).__name__}")
        return data
    raise TypeError(f"no JSON mapping for {kind!r}")


def _union(kind: Any, data: Any, path: str) -> Any:
    options = [arg for arg in typing.get_args(kind) if arg is not type(None)]
    if data is None and len(options) < len(typing.get_args(kind)):
        return None
    if len(options) != 1:
        raise TypeError(f"no JSON mapping for {kind!r}")
    return from_plain(options[0], data, path)


def _dataclass(kind: Any, data: Any, path: str) -> Any:
    _expect(data, dict, path)
    hints = _hints(kind)
    unknown = sorted(set(data) - set(hints))
    if unknown:
        raise DecodeError(_join(path, unknown[0]), "unknown field")
    values = {name: from_plain(hints[name], item, _join(path, name)) for name, item in data.items()}
    try:
        return kind(**values)
    except TypeError as exc:
        raise DecodeError(path, str(exc)) from None


@functools.cache
def _hints(kind: type) -> dict[str, Any]:
    names = {f.name for f in dataclasses.fields(kind)}  # type: ignore[arg-type]
    return {name: hint for name, hint in typing.get_type_hints(kind).items() if name in names}


def _pattern(text: str, path: str) -> CommunityPattern:
    try:
        return CommunityPattern.from_text(text)
    except ValueError:
        raise DecodeError(path, f"invalid community {text!r}") from None


def _expect(data: Any, kind: type, path: str) -> None:
    if not isinstance(data, kind):
        raise DecodeError(path, f"expected {kind.__name__}, got {type(data).__name__}")


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name
