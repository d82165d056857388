"""JSON with exact numbers, shared by the connector (request bodies) and the mirror (stored raw documents).

* :func:`loads` — every non-integer number becomes ``Decimal`` (``parse_float=Decimal``); integers stay ``int``.
* :func:`dumps` — compact JSON; ``Decimal`` is written digit for digit, so ``loads(dumps(x)) == x``. It writes
  what it is given (the mirror only ever dumps what :func:`loads` produced, which holds no floats).
* :func:`reject_floats` — raises ``TypeError`` if a float hides anywhere in a value: the connector runs it on every
  request body, because money and quantities are never floats in syncd (STYLE habit 3).
* :func:`content_hash` — a hash of the canonical (key-sorted) form, used to skip writes when nothing changed.
"""

from __future__ import annotations

import hashlib
import json
import re
from decimal import Decimal
from typing import Any


def _encode(value: Any, out: list[str], sort_keys: bool) -> None:
    if isinstance(value, dict):
        out.append("{")
        items = sorted(value.items()) if sort_keys else value.items()
        for i, (k, v) in enumerate(items):
            if i:
                out.append(",")
            out.append(json.dumps(str(k)))
            out.append(":")
            _encode(v, out, sort_keys)
        out.append("}")
    elif isinstance(value, (list, tuple)):
        out.append("[")
        for i, v in enumerate(value):
            if i:
                out.append(",")
            _encode(v, out, sort_keys)
        out.append("]")
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"cannot encode {value} as JSON")
        out.append(str(value))
    elif isinstance(value, bool) or value is None or isinstance(value, (str, int)):
        out.append(json.dumps(value))
    elif isinstance(value, float):
        out.append(repr(value))
    else:
        raise TypeError(f"cannot encode {type(value).__name__} as JSON")


_MARK = "\ue000"  # private-use character wrapped around Decimal text; json escapes it as \ue000
_MARKED = re.compile(r'"\\ue000([-+0-9.eE]+)\\ue000"')


def _encode_slow(value: Any, sort_keys: bool) -> str:
    out: list[str] = []
    _encode(value, out, sort_keys)
    return "".join(out)


def dumps(value: Any, *, sort_keys: bool = False) -> str:
    """Compact JSON; ``Decimal`` is written digit for digit, so ``loads(dumps(x)) == x`` with Decimal numbers.

    Fast path: the C encoder writes each Decimal as a marked string, and the marks are then stripped. If the
    document itself contains the marker character the count does not match and the pure-Python encoder is used.
    """
    count = 0

    def default(obj: Any) -> Any:
        nonlocal count
        if isinstance(obj, Decimal):
            if not obj.is_finite():
                raise ValueError(f"cannot encode {obj} as JSON")
            count += 1
            return f"{_MARK}{obj}{_MARK}"
        raise TypeError(f"cannot encode {type(obj).__name__} as JSON")

    text = json.dumps(value, default=default, separators=(",", ":"), sort_keys=sort_keys)
    out, replaced = _MARKED.subn(r"\1", text)
    if replaced != count or "\\ue000" in out:
        return _encode_slow(value, sort_keys)
    return out


def reject_floats(value: Any, where: str = "$") -> None:
    """Raise ``TypeError`` naming the JSON path of the first float in ``value``."""
    if isinstance(value, float):
        raise TypeError(f"float at {where}: money and quantities must be Decimal, never float")
    if isinstance(value, dict):
        for key, item in value.items():
            reject_floats(item, f"{where}.{key}")
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            reject_floats(item, f"{where}[{i}]")


def loads(text: str | bytes) -> Any:
    """Parse JSON with every non-integer number as ``Decimal`` (the connector's convention)."""
    return json.loads(text, parse_float=Decimal)


def content_hash(doc: Any) -> str:
    """Hash of the canonical (key-sorted) JSON form: equal for equal documents whatever their key order, and
    whether a number was read as ``int`` or ``Decimal``. Numbers are hashed by their text (``4.50`` ≠ ``4.5``): a
    document that QBO re-renders differently is written once more, never missed."""
    return hashlib.sha256(dumps(doc, sort_keys=True).encode("utf-8")).hexdigest()[:32]
