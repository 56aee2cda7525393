"""What if fastavro got schemas parsed with the write hint (parse_schema(..., _write_hint=True))?"""
from dataclasses import replace

from fastavro.schema import parse_schema

from schemas import codec

for _et in codec.EVENT_TYPES.values():
    _et.info = replace(_et.info, parsed=parse_schema(_et.info.expanded))
