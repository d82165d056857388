"""Column types and JSON helpers that keep the mirror exact on SQLite and PostgreSQL.

* :class:`DecimalType` — quantities and money. PostgreSQL stores ``NUMERIC(28, 8)``. SQLite has no exact decimal
  type (its NUMERIC affinity is a float), so there the value is stored as a scaled ``INTEGER`` (units of 1e-8):
  exact, ordered, and ``SUM()`` stays exact — the result is converted back by this type when the expression carries
  it (``func.sum(col)`` does). Values must fit ±9.2e10 with at most 8 decimals; :func:`check_decimal` says so.
* :class:`UTCDateTime` — aware datetimes only. Stored as UTC; on SQLite (which keeps naive text) the UTC zone is
  re-attached on read, so Python always compares aware datetimes, and SQL compares a fixed-width UTC text format.
* :func:`dumps` / :func:`content_hash` — the raw QBO document as JSON text with ``Decimal`` written as the exact
  number it was, and a hash of its canonical (key-sorted) form used to skip writes when nothing changed.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime, Numeric
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

SCALE = 8
_QUANTUM = Decimal(1).scaleb(-SCALE)
_FACTOR = 10**SCALE
#: Largest absolute value both backends can hold exactly (SQLite: BIGINT of 1e-8 units).
MAX_ABS = Decimal(9_000_000_000)


def check_decimal(value: Decimal) -> str | None:
    """Why ``value`` cannot be stored exactly, or None when it can."""
    if not value.is_finite():
        return f"{value} is not a finite number"
    if abs(value) >= MAX_ABS:
        return f"{value} is too large (limit {MAX_ABS})"
    if value != value.quantize(_QUANTUM):
        return f"{value} has more than {SCALE} decimal places"
    return None


def _trim(value: Decimal) -> Decimal:
    """Drop storage padding (``1.50000000`` → ``1.5``, ``100.00000000`` → ``100``) without exponent notation."""
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.quantize(_QUANTUM).normalize()


class DecimalType(TypeDecorator[Decimal]):
    """Exact decimal column (see module docstring). Binding a float is an error: floats never enter the mirror."""

    impl = Numeric(28, SCALE, asdecimal=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(28, SCALE, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("float given to a Decimal column; convert with Decimal(str(x)) at the boundary")
        value = Decimal(value)
        if dialect.name == "sqlite":
            return int((value * _FACTOR).to_integral_value())
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            if isinstance(value, float):  # AVG() and friends on SQLite yield a float of scaled units
                value = Decimal(repr(value))
            return _trim(Decimal(value) / _FACTOR)
        return _trim(Decimal(value))

    @property
    def python_type(self) -> type[Decimal]:
        return Decimal


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetime column; naive datetimes are rejected on bind, results are always aware (UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
            raise TypeError(f"aware datetime required, got {value!r}")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    @property
    def python_type(self) -> type[datetime]:
        return datetime


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


def loads(text: str) -> Any:
    """Parse JSON with every non-integer number as ``Decimal`` (the connector's convention)."""
    return json.loads(text, parse_float=Decimal)


def content_hash(doc: Any) -> str:
    """Hash of the canonical (key-sorted) JSON form: equal for equal documents whatever their key order, and
    whether a number was read as ``int`` or ``Decimal``. Numbers are hashed by their text (``4.50`` ≠ ``4.5``): a
    document that QBO re-renders differently is written once more, never missed."""
    return hashlib.sha256(dumps(doc, sort_keys=True).encode("utf-8")).hexdigest()[:32]
