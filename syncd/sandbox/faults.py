"""QBO fault bodies, exactly as recorded from real QuickBooks Online (see QBO_FACTS.md §6 and qbo_samples/).

Every error the sandbox produces is a :class:`QBOFault`; the HTTP layer renders it with :meth:`QBOFault.render`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


def qbo_time(at: datetime) -> str:
    """Envelope ``time`` field: local offset with milliseconds, e.g. ``2015-12-09T11:12:39.748-08:00``."""
    from syncd.sandbox.timefmt import to_company_tz  # local import keeps this module dependency-free

    local = to_company_tz(at)
    return local.isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class ErrorItem:
    message: str
    detail: str
    code: str
    element: str | None = ""


@dataclass
class QBOFault(Exception):
    """A QuickBooks fault. ``status`` is the HTTP status, ``fault_type`` the envelope ``type``."""

    status: int
    errors: list[ErrorItem]
    fault_type: str = "ValidationFault"
    # "json" (the normal envelope), "json401" (lower-case 2020 auth shape), "xml" (IntuitResponse)
    shape: str = "json"
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:  # pragma: no cover - debugging aid
        first = self.errors[0]
        return f"QBO fault {first.code} ({self.status}): {first.message}: {first.detail}"

    # ---- rendering -------------------------------------------------------------------------
    def as_fault_dict(self) -> dict[str, Any]:
        """The ``Fault`` object used inside the envelope and inside batch item responses."""
        return {
            "Error": [
                {"Message": e.message, "Detail": e.detail, "code": e.code, "element": e.element}
                for e in self.errors
            ],
            "type": self.fault_type,
        }

    def render(self, now: datetime) -> tuple[int, dict[str, str], bytes]:
        """(status, headers, body) as QBO would send it."""
        headers = dict(self.headers)
        if self.shape == "xml":
            errs = "".join(
                f'<Error code="{_x(e.code)}"><Message>{_x(e.message)}</Message>'
                f"<Detail>{_x(e.detail)}</Detail></Error>"
                for e in self.errors
            )
            body = (
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                f'<IntuitResponse time="{qbo_time(now)}" xmlns="http://schema.intuit.com/finance/v3">'
                f'<Fault type="{_x(self.fault_type)}">{errs}</Fault></IntuitResponse>'
            )
            headers.setdefault("Content-Type", "application/xml")
            return self.status, headers, body.encode()
        if self.shape == "json401":
            # Real 2020 recording (qbo_samples/errors/401_token_expired_observed.json): lower-case keys, epoch ms.
            e = self.errors[0]
            doc: dict[str, Any] = {
                "warnings": None,
                "intuitObject": None,
                "fault": {
                    "error": [{"message": e.message, "detail": e.detail, "code": e.code, "element": None}],
                    "type": self.fault_type,
                },
                "report": None,
                "queryResponse": None,
                "batchItemResponse": [],
                "attachableResponse": [],
                "syncErrorResponse": None,
                "requestId": None,
                "time": int(now.timestamp() * 1000),
                "status": None,
                "cdcresponse": [],
            }
            headers.setdefault("Content-Type", "application/json")
            return self.status, headers, json.dumps(doc).encode()
        doc = {"Fault": self.as_fault_dict(), "time": qbo_time(now)}
        headers.setdefault("Content-Type", "application/json")  # error responses carry no charset [VCR]
        return self.status, headers, json.dumps(doc).encode()


def _x(s: str | None) -> str:
    return (s or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


# ---- the catalogue of faults the sandbox raises (bodies copied from recordings) ---------------------------


def validation(code: str, message: str, detail: str, element: str = "", status: int = 400) -> QBOFault:
    return QBOFault(status, [ErrorItem(message, detail, code, element)])


def invalid_query(detail: str) -> QBOFault:
    """4001, HTTP 400 [VCR error__400]. ``detail`` like ``QueryValidationError: value 1500 is too large...``."""
    return validation("4001", "Invalid query", detail)


def unsupported_property(entity: str, prop: str, known: list[str]) -> QBOFault:
    """2010 [VCR error__400_json]."""
    return validation(
        "2010",
        "Request has invalid or unsupported property",
        f"Property Name:Unrecognized field \"{prop}\" (class com.intuit.schema.finance.v3.{entity}), "
        f"not marked as ignorable (" + ", ".join(f'"{k}"' for k in known) + ") specified in the request",
    )


def invalid_id(element: str = "Id", supplied: str = "") -> QBOFault:
    """2030 [VCR error__500]: ``Id should be a valid number. Supplied value:1.5``."""
    return validation("2030", "Invalid ID", f"Id should be a valid number. Supplied value:{supplied}", element)


def object_not_found() -> QBOFault:
    """610 [VCR batch__basic]."""
    return validation(
        "610",
        "Object Not Found",
        "Object Not Found : Something you're trying to use has been made inactive. "
        "Check the fields with accounts, customers, items, vendors or employees.",
    )


def stale_object(user: str = "API User") -> QBOFault:
    """5010 [VCR batch__basic]."""
    return validation(
        "5010",
        "Stale Object Error",
        f"Stale Object Error : You and {user} were working on this at the same time. "
        f"{user} finished before you did, so your work was not saved.",
    )


def required_param(name: str, element: str = "") -> QBOFault:
    """2020 Required param missing."""
    return validation("2020", "Required param missing, need to supply the required value for the API",
                      f"Required parameter {name} is missing in the request", element)


def business_validation(detail: str, code: str = "6000") -> QBOFault:
    return validation(code, "A business validation error has occurred while processing your request",
                      f"Business Validation Error: {detail}")


def duplicate_name() -> QBOFault:
    """6240 [VCR error__validation]."""
    return validation("6240", "Duplicate Name Exists Error",
                      "The name supplied already exists. : Another customer, vendor or employee is already "
                      "using this name. Please use a different name.")


def unsupported_operation(path: str) -> QBOFault:
    """Unknown path: HTTP 400, Fault code "500" [VCR error__500]."""
    return validation("500", "Unsupported Operation", f"Operation {path} is not supported.")


def malformed_body(detail: str) -> QBOFault:
    """Unparseable JSON: QBO answers 400 with code 2010 'Request has invalid or unsupported property'."""
    # UNCONFIRMED exact wording for syntactically broken JSON; 2010 is what QBO returns for bodies it cannot map.
    return validation("2010", "Request has invalid or unsupported property", detail)


def throttled(shape: str = "xml") -> QBOFault:
    """429 ThrottleExceeded, code 3001 (observed as XML even when JSON was asked for [ej2#43])."""
    return QBOFault(
        429,
        [ErrorItem("message=ThrottleExceeded; errorCode=003001; statusCode=429",
                   "The request limit was reached.  Try again later", "3001")],
        fault_type="SERVICE",
        shape=shape,
    )


def token_expired(detail: str = "Token expired") -> QBOFault:
    """401, the real 2020 JSON shape with ``Www-Authenticate`` [VCR error__401]."""
    return QBOFault(
        401,
        [ErrorItem("message=AuthenticationFailed; errorCode=003200; statusCode=401", detail, "3200", None)],
        fault_type="AUTHENTICATION",
        shape="json401",
        headers={"Www-Authenticate": 'Bearer realm="Intuit", error="invalid_token"'},
    )


def auth_general() -> QBOFault:
    """401 XML AuthenticationFault code 100 — seen for a wrong realm/token pairing [ej2#120]."""
    return QBOFault(
        401,
        [ErrorItem("General Authentication Error",
                   "AuthenticationErrorGeneral: SRV-110-Authentication Failure , statusCode: 401", "100")],
        fault_type="AuthenticationFault",
        shape="xml",
    )


def system_fault() -> QBOFault:
    """10000 SystemFault, HTTP 500 [intuit/QuickBooks-V3-PHP-SDK#127] (XML as observed)."""
    return QBOFault(
        500,
        [ErrorItem("An application error has occurred while processing your request",
                   "System Failure Error: An unexpected error occurred while accessing or saving your data. "
                   "Please wait a few minutes and try again. If the problem persists, contact customer support.",
                   "10000")],
        fault_type="SystemFault",
        shape="xml",
    )
