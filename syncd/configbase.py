"""Building blocks shared by every config section.

Sections are pydantic models that forbid unknown keys and are frozen once loaded. TOML is parsed with
``parse_float=Decimal`` so a quantity written as ``2.5`` arrives as ``Decimal("2.5")``, never as a float.
A section validates what it can see on its own; cross-checks that need the mirror (e.g. "is this vendor
name known?") are done later and reported with the same dotted-key format (see :func:`dotted`).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any, get_args

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError
from pydantic_core.core_schema import ErrorType


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


_SECRETISH = re.compile(r"secret|password|token", re.I)
_BUILTIN_ERRORS = frozenset(get_args(ErrorType))


def format_errors(exc: ValidationError, prefix: tuple[Any, ...] = ()) -> list[str]:
    """One ``dotted.key: message`` line per pydantic error, e.g. ``reorder.rule[2].max: must be greater than
    min (got 3 <= 5)``. ``prefix`` is prepended to each location (for a section validated on its own).
    Values are echoed as ``(got …)`` to help the admin, except under keys that may hold a secret."""
    out: list[str] = []
    for err in exc.errors(include_url=False):
        loc = (*prefix, *err["loc"])
        key = dotted(loc)
        kind, ctx, value = err["type"], err.get("ctx") or {}, err.get("input")
        shown = (
            not _SECRETISH.search(key)
            and isinstance(value, (str, int, Decimal))
            and len(str(value)) <= 80
        )
        got = (f" (got {value!r})" if isinstance(value, str) else f" (got {value})") if shown else ""
        if kind == "extra_forbidden":
            msg = "unknown key (check the spelling; see config.example.toml)"
        elif kind == "missing":
            msg = "required key is missing"
        elif kind == "greater_than":
            msg = f"must be greater than {ctx['gt']}{got}"
        elif kind == "greater_than_equal":
            msg = f"must be at least {ctx['ge']}{got}"
        elif kind == "less_than":
            msg = f"must be less than {ctx['lt']}{got}"
        elif kind == "less_than_equal":
            msg = f"must be at most {ctx['le']}{got}"
        elif kind == "string_too_short" and ctx.get("min_length") == 1:
            msg = "must not be empty"
        elif kind == "literal_error":
            msg = f"must be one of {ctx['expected']}{got}"
        elif kind == "value_error":
            msg = str(ctx.get("error", err["msg"]))
            if "got " not in msg and str(value) not in msg:
                msg += got
        elif kind in _BUILTIN_ERRORS:
            msg = err["msg"] + ("" if "got " in err["msg"] else got)
        else:  # a hand-written PydanticCustomError already says what it needs to
            msg = err["msg"]
        out.append(f"{key}: {msg}" if key else msg)
    return out
