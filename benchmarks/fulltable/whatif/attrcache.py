"""What if decoded path attributes were cached by their wire bytes (per session)?"""
import importlib

_decode = importlib.import_module("speaker.codec.decode")

_orig = _decode.decode_attributes
_cache: dict = {}


def decode_attributes(data, negotiated, body_nlri):
    key = (bytes(data), id(negotiated), body_nlri)
    hit = _cache.get(key)
    if hit is not None and hit[0] is negotiated:
        return hit[1]
    found = _orig(data, negotiated, body_nlri)
    if found.mp_reach is None and found.mp_unreach is None:
        if len(_cache) > 100000:
            _cache.clear()
        _cache[key] = (negotiated, found)
    return found


_decode.decode_attributes = decode_attributes
