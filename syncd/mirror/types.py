"""Column types and JSON helpers that keep the mirror exact on SQLite and PostgreSQL.

* :class:`DecimalType` — quantities and money. PostgreSQL stores ``NUMERIC(28, 8)``. SQLite has no exact decimal
  type (its NUMERIC affinity is a float), so there the value is stored as a scaled ``INTEGER`` (units of 1e-8):
  exact, ordered, and ``SUM()`` stays exact — the result is converted back by this type when the expression carries
  it (``func.sum(col)`` does). Values must fit ±9.2e10 with at most 8 decimals; :func:`check_decimal` says so.
* :class:`UTCDateTime` — aware datetimes only. Stored as UTC; on SQLite (which keeps naive text) the UTC zone is
  re-attached on read, so Python always compares aware datetimes, and SQL compares a fixed-width UTC text format.
* :class:`MemoDecimal`, :class:`MemoDate`, :class:`MemoUTCDateTime` — the same conversions for bulk reads, each
  distinct stored value converted once per statement (apply with ``type_coerce``).
* :func:`dumps` / :func:`loads` / :func:`content_hash` — re-exported from :mod:`syncd.jsonutil` (exact Decimal JSON).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Date, DateTime, Numeric
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

from syncd.jsonutil import content_hash, dumps, loads

__all__ = [
    "DecimalType", "MemoDate", "MemoDecimal", "MemoUTCDateTime", "UTCDateTime", "check_decimal", "content_hash",
    "dumps", "loads",
]

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


def _memo(convert: Callable[[Any], Any] | None) -> Callable[[Any], Any] | None:
    """``convert`` remembering its results (up to :data:`MEMO_SIZE` distinct values, then it starts over)."""
    if convert is None:
        return None
    cache: dict[Any, Any] = {}

    def process(value: Any) -> Any:
        if value is None:
            return None
        try:
            return cache[value]
        except KeyError:
            if len(cache) >= MEMO_SIZE:
                cache.clear()
            out = cache[value] = convert(value)
            return out

    return process


#: distinct stored values a memoizing type remembers per statement
MEMO_SIZE = 4096


class MemoDecimal(DecimalType):
    """:class:`DecimalType` converting each distinct stored value once per statement, not once per row.

    Quantities, dates and timestamps repeat a lot in bulk reads (a few hundred distinct values over a million
    lines), and the exact conversion (scale, trim; date parsing) is the costly part of reading a row. Equal stored
    values give equal, canonical, immutable values, so sharing one between rows is exact.
    """

    cache_ok = True

    def result_processor(self, dialect: Dialect, coltype: Any) -> Callable[[Any], Any] | None:
        return _memo(super().result_processor(dialect, coltype))


class MemoUTCDateTime(UTCDateTime):
    """:class:`UTCDateTime` converting each distinct stored value once (see :class:`MemoDecimal`)."""

    cache_ok = True

    def result_processor(self, dialect: Dialect, coltype: Any) -> Callable[[Any], Any] | None:
        return _memo(super().result_processor(dialect, coltype))


class MemoDate(TypeDecorator[date]):
    """``Date`` converting each distinct stored value once (see :class:`MemoDecimal`)."""

    impl = Date
    cache_ok = True

    def result_processor(self, dialect: Dialect, coltype: Any) -> Callable[[Any], Any] | None:
        return _memo(self.impl_instance.dialect_impl(dialect).result_processor(dialect, coltype))
