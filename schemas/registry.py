"""Confluent wire format, for deployments with a schema registry.

Kept deliberately thin: the registry is only asked for ids, and the Avro bodies
are the same as in single-object encoding (:mod:`schemas.codec`). Subjects use
TopicRecordNameStrategy (``<topic>-<record full name>``) because several record
types share a topic. Tested only with confluent-kafka's in-process ``mock://``
registry: it has never run against a real registry server.
"""

from __future__ import annotations

import json
import struct
from typing import Any

from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from fastavro.schema import parse_schema

from schemas import codec
from schemas.codec import DecodeError, EventType

_MAGIC = 0


def subject_name(topic: str, record_name: str) -> str:
    """TopicRecordNameStrategy."""
    return f"{topic}-{record_name}"


class ConfluentFraming:
    """Encode/decode events as magic byte + 4-byte schema id + Avro body."""

    def __init__(self, url: str, client: SchemaRegistryClient | None = None) -> None:
        # new_client picks the in-process mock for mock:// URLs (the tests use it).
        self._client = client or SchemaRegistryClient.new_client({"url": url})
        self._ids: dict[tuple[str, str], int] = {}
        self._writers: dict[int, tuple[EventType, dict[str, Any]]] = {}

    def _schema_id(self, topic: str, et: EventType) -> int:
        key = (topic, et.info.name)
        if key not in self._ids:
            schema = Schema(json.dumps(et.info.expanded), "AVRO")
            self._ids[key] = self._client.register_schema(subject_name(*key), schema)
        return self._ids[key]

    def encode(self, topic: str, event: Any) -> bytes:
        et = codec.event_type(event)
        header = struct.pack(">bI", _MAGIC, self._schema_id(topic, et))
        return header + codec.encode_body(event)

    def _writer(self, schema_id: int) -> tuple[EventType, dict[str, Any]]:
        if schema_id not in self._writers:
            schema = json.loads(self._client.get_schema(schema_id).schema_str)
            et = codec.BY_NAME.get(schema["name"])
            if et is None:
                raise DecodeError(f"schema id {schema_id} is {schema['name']}, not an ixrs event")
            self._writers[schema_id] = (et, parse_schema(schema, _write_hint=False))
        return self._writers[schema_id]

    def event_class(self, data: bytes) -> type | None:
        if len(data) < 5 or data[0] != _MAGIC:
            return None
        (schema_id,) = struct.unpack(">I", data[1:5])
        return self._writer(schema_id)[0].cls

    def header(self, data: bytes) -> Any:
        return codec.peek_header(data, 5)

    def decode(self, data: bytes) -> Any:
        if len(data) < 5 or data[0] != _MAGIC:
            raise DecodeError("not Confluent wire format")
        (schema_id,) = struct.unpack(">I", data[1:5])
        et, writer = self._writer(schema_id)
        return codec.decode_body(et, data[5:], writer)
