"""Building blocks shared by every config section.

Sections are pydantic models that forbid unknown keys and are frozen once loaded. TOML is parsed with
``parse_float=Decimal`` so a quantity written as ``2.5`` arrives as ``Decimal("2.5")``, never as a float.
A section validates what it can see on its own; cross-checks that need the mirror (e.g. "is this vendor
name known?") are done later and reported with the same dotted-key format (see :func:`dotted`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict


class Section(BaseModel):
    """Base of every config model: unknown keys are errors, loaded values are read-only."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def _to_decimal(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("expected a number, got a boolean")
    if isinstance(value, float):
        # Only reachable when a caller builds config from Python objects; TOML floats are already Decimal.
        raise ValueError("expected an exact decimal (write it in TOML, or pass Decimal/int/str), got a float")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        try:
            return Decimal(value.strip())
        except Exception as exc:  # decimal.InvalidOperation
            raise ValueError(f"not a number: {value!r}") from exc
    return value


# A Decimal that accepts TOML numbers (ints, Decimal floats) and numeric strings, and rejects Python floats.
Dec = Annotated[Decimal, BeforeValidator(_to_decimal)]


def dotted(loc: tuple[Any, ...] | list[Any]) -> str:
    """Render a location like ``("reorder", "rule", 2, "max")`` as ``reorder.rule[2].max``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out
