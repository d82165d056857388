"""Company-local time rendering. QBO renders MetaData times in the company's time zone with its offset."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

COMPANY_TZ = ZoneInfo("America/Los_Angeles")


def to_company_tz(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("naive datetime given to the sandbox clock")
    return at.astimezone(COMPANY_TZ)


def meta_time(at: datetime) -> str:
    """``MetaData.LastUpdatedTime`` format: seconds precision, local offset, e.g. ``2015-12-09T11:12:39-08:00``."""
    return to_company_tz(at).replace(microsecond=0).isoformat()


def company_date(at: datetime) -> date:
    return to_company_tz(at).date()
