"""The sandbox's HTTP side: a stdlib ``ThreadingHTTPServer`` speaking HTTP/1.1 keep-alive (:class:`SandboxHTTPServer`)
and the QBO v3 API routes on top of it (:class:`QBOApi`).

Transport contract:
* Every request is parsed into a :class:`Request` and handed to one ``dispatch(Request) -> Response`` callable.
* The transport never answers with a traceback and never hangs: an exception escaping ``dispatch`` becomes the QBO
  ``SystemFault`` (HTTP 500, :func:`faults.system_fault`) and is logged to stderr **without** the request body, the
  query string or any header (bodies and tokens never reach the log).
* A :class:`Response` with ``drop=True`` closes the socket without writing a byte (the "dropped connection" fault).
* Responses always carry ``Content-Length`` so clients can keep the connection alive.

The API contract is on :class:`QBOApi`.
"""

from __future__ import annotations

import json
import logging
import secrets
import socket
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from syncd.sandbox import faults

log = logging.getLogger("syncd.sandbox")

MAX_BODY_BYTES = 20 * 1024 * 1024
# An idle keep-alive connection is closed after this many seconds so handler threads do not pile up.
IDLE_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Request:
    """One parsed HTTP request. ``query`` maps each parameter to its *first* value (QBO never repeats them)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names
    body: bytes
    raw_target: str = ""

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)

    @property
    def content_type(self) -> str:
        return self.header("content-type").split(";")[0].strip().lower()


@dataclass
class Response:
    """What to send back. ``drop`` closes the connection without any response (fault injection)."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    drop: bool = False

    @classmethod
    def from_fault(cls, fault: faults.QBOFault, now: datetime, extra: dict[str, str] | None = None) -> Response:
        status, headers, body = fault.render(now)
        headers = {**(extra or {}), **headers}
        return cls(status, headers, body)

    @classmethod
    def json(cls, status: int, doc: Any, headers: dict[str, str] | None = None,
             content_type: str = "application/json;charset=utf-8") -> Response:
        hdrs = {"Content-Type": content_type, **(headers or {})}
        return cls(status, hdrs, dump_json(doc))


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        # QBO renders amounts as JSON numbers (337.5, 75); keep integers integral.
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def dump_json(doc: Any) -> bytes:
    return json.dumps(doc, default=_json_default, separators=(",", ":")).encode("utf-8")


def new_tid() -> str:
    """An ``intuit_tid`` in the recorded shape ``1-5f734f0e-58baa045003ab251111c54e6``."""
    return f"1-{secrets.token_hex(4)}-{secrets.token_hex(12)}"


Dispatch = Callable[[Request], Response]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: SandboxHTTPServer

    def version_string(self) -> str:
        return "nginx"  # what QBO's edge reports in ``Server``

    def setup(self) -> None:
        super().setup()
        self.connection.settimeout(IDLE_TIMEOUT_S)
        self.server.track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, False)

    # Every method goes through one path so unknown verbs get a QBO-shaped answer too.
    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        # The default access log prints the request line, whose query string may carry a query statement or a
        # requestid; log only method and path at debug level.
        return

    def _read_body(self) -> bytes | None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            total = 0
            while True:
                size_line = self.rfile.readline(1024)
                size = int(size_line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                total += size
                if total > MAX_BODY_BYTES:
                    return None
                chunks.append(self.rfile.read(size))
                self.rfile.readline(8)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            return None
        return self.rfile.read(length) if length > 0 else b""

    def _serve(self) -> None:
        split = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            body = self._read_body()
        except (ValueError, OSError):
            body = None
        if body is None:
            self.close_connection = True
            self._send(Response.from_fault(faults.malformed_body("Request body too large or unreadable"),
                                           self.server.now()))
            return
        request = Request(self.command, split.path, query, headers, body, self.path)
        try:
            response = self.server.dispatch(request)
        except Exception as exc:  # noqa: BLE001 - the one place any bug becomes QBO's SystemFault
            # Type and frames only: an exception's message can quote the request body.
            log.error("sandbox: unhandled error method=%s path=%s error=%s\n%s", request.method, request.path,
                      type(exc).__name__, "".join(traceback.format_tb(exc.__traceback__)))
            response = Response.from_fault(faults.system_fault(), self.server.now(),
                                           {"Intuit-Tid": new_tid()})
        if response.drop:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self._send(response)

    def _send(self, response: Response) -> None:
        try:
            self.send_response(response.status)
            for name, value in response.headers.items():
                if name.lower() not in ("content-length", "connection"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.body)))
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


class SandboxHTTPServer(ThreadingHTTPServer):
    """Threaded HTTP/1.1 server; ``stop()`` also closes idle keep-alive connections so it returns promptly."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], dispatch: Dispatch, now: Callable[[], datetime]) -> None:
        super().__init__(address, _Handler)
        self.dispatch = dispatch
        self.now = now
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def track(self, conn: socket.socket, open_: bool) -> None:
        with self._conns_lock:
            (self._conns.add if open_ else self._conns.discard)(conn)

    def start(self) -> None:
        """Serve from a background thread; the socket is already listening when this returns."""
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="sandbox-http", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.shutdown()
        with self._conns_lock:
            conns = list(self._conns)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    @property
    def port(self) -> int:
        return int(self.server_address[1])


# ==== QBO v3 API ======================================================================================================

MAX_BATCH_ITEMS = 30  # [BATCH] "The maximum number of payloads in a single BatchItemRequest is 30"
MAX_REQUEST_ID = 50  # [RID2015] "maximum of 50 characters for all operations except batch"
MAX_BATCH_REQUEST_ID = 36  # [RID2015] "For batch operations, the RequestID supports a maximum of 36 characters"
_WRITE_OPS = ("create", "update", "delete", "void")


class Stats:
    """Request counters per realm and per kind (``read``, ``create``, ``query``, ``cdc``, ``batch``, ``http_429``…),
    so benchmarks can compare API-call counts. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._realms: dict[str, dict[str, int]] = {}

    def add(self, realm: str, *keys: str) -> None:
        with self._lock:
            counts = self._realms.setdefault(realm, {})
            for key in keys:
                counts[key] = counts.get(key, 0) + 1

    def snapshot(self) -> dict[str, dict[str, int]]:
        with self._lock:
            return {realm: dict(sorted(c.items())) for realm, c in self._realms.items()}

    def reset(self) -> None:
        with self._lock:
            self._realms.clear()


@dataclass(frozen=True)
class _Route:
    realm: str
    kind: str  # read | query | cdc | batch | create | update | delete | void | unsupported
    entity: str | None = None
    entity_id: str | None = None

    @property
    def is_write(self) -> bool:
        return self.kind in _WRITE_OPS or self.kind == "batch"


class QBOApi:
    """``/v3/company/{realm}/...`` exactly as QBO answers it (QBO_FACTS.md §0–§6).

    Order of checks: bearer token (401 JSON ``token_expired``) → realm belongs to the token and exists (401 XML
    ``auth_general``) → per-realm throttle (429) → injected latency/fault → ``requestid`` replay → the operation.
    ``minorversion`` is accepted and ignored. Writes with ``requestid`` are serialised per (realm, requestid) and the
    first real answer — success or a fault raised by the store — is stored and replayed byte for byte; injected
    faults, throttling and authentication failures are not stored, so a retry after any of them performs the write
    (or replays it, for ``after_write``).
    """

    def __init__(self, *, store: Any, authenticate: Callable[[str], str], limiter: Any, chaos: Any,
                 stats: Stats, now: Callable[[], datetime]) -> None:
        self.store = store
        self._authenticate = authenticate
        self.limiter = limiter
        self.chaos = chaos
        self.stats = stats
        self._now = now
        self._rid_locks: dict[tuple[str, str], list[Any]] = {}
        self._rid_guard = threading.Lock()

    # ---- entry ------------------------------------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        parts = request.path.split("/")
        if len(parts) < 5 or parts[1] != "v3" or parts[2] != "company" or not parts[3] or not parts[4]:
            return self._fault(faults.unsupported_operation(self._resource_detail(request)))
        realm = parts[3]
        try:
            token_realm = self._authenticate(request.header("authorization"))
            if token_realm != realm or not self.store.has_realm(realm):
                raise faults.auth_general()
        except faults.QBOFault as fault:
            self.stats.add(realm, "total", "auth_failed", f"http_{fault.status}")
            return self._fault(fault)
        route = self._route(request, realm, parts[4:])
        try:
            lease = self.limiter.acquire(realm, batch=route.kind == "batch")
        except faults.QBOFault as fault:
            self.stats.add(realm, "total", route.kind, "throttled", f"http_{fault.status}")
            return self._fault(fault)
        try:
            response = self._handle_admitted(request, route)
        finally:
            lease.release()
        self.stats.add(realm, "total", route.kind, "dropped" if response.drop else f"http_{response.status}")
        return response

    def _handle_admitted(self, request: Request, route: _Route) -> Response:
        plan = self.chaos.plan(is_write=route.is_write)
        self.chaos.sleep(plan.delay_s)
        if plan.before_write is not None:
            return self._injected(plan.before_write)
        rid = request.query.get("requestid") if route.is_write else None
        if rid:
            response = self._with_request_id(request, route, rid)
        else:
            response = self._execute(request, route)[0]
        if plan.after_write is not None:
            return self._injected("500" if plan.after_write == "after_write" else "drop")
        return response

    def _with_request_id(self, request: Request, route: _Route, rid: str) -> Response:
        limit = MAX_BATCH_REQUEST_ID if route.kind == "batch" else MAX_REQUEST_ID
        if len(rid) > limit:
            # Wording from a real answer quoted in intuit/QuickBooks-V3-Java-SDK#180.
            return self._fault(faults.business_validation(
                f"You cannot enter more than {limit} characters in the request_id field. "
                f"You tried entering {rid[:10]}..., which is {len(rid)} characters."))
        key = (route.realm, rid)
        with self._rid_guard:
            entry = self._rid_locks.setdefault(key, [threading.Lock(), 0])
            entry[1] += 1
        try:
            with entry[0]:
                hit = self.store.recall_request(route.realm, rid)
                if hit is not None:
                    status, body, content_type = hit
                    self.stats.add(route.realm, "replayed")
                    return Response(status, self._headers(content_type), body)
                response, remember = self._execute(request, route)
                if remember:
                    self.store.remember_request(route.realm, rid, response.status, response.body,
                                                response.headers.get("Content-Type", "application/json"))
                return response
        finally:
            with self._rid_guard:
                entry[1] -= 1
                if entry[1] == 0:
                    self._rid_locks.pop(key, None)

    # ---- routing ------------------------------------------------------------------------------------------------
    def _route(self, request: Request, realm: str, rest: list[str]) -> _Route:
        method = request.method
        if rest == ["query"] and method in ("GET", "POST"):
            return _Route(realm, "query")
        if rest == ["cdc"] and method == "GET":
            return _Route(realm, "cdc")
        if rest == ["batch"] and method == "POST":
            return _Route(realm, "batch")
        entity = self.store.resolve_entity(rest[0]) if len(rest) in (1, 2) and rest[0] else None
        if entity is None:
            return _Route(realm, "unsupported")
        if len(rest) == 2 and method == "GET" and rest[1]:
            return _Route(realm, "read", entity, rest[1])
        if len(rest) == 1 and method == "POST":
            op = request.query.get("operation", "").lower()
            if op == "update" and request.query.get("include", "").lower() == "void":
                op = "void"  # how python-quickbooks voids SalesReceipt/Payment/BillPayment
            if op == "":
                # Like QBO: a body with an Id is an update, without one a create.
                op = "update" if _has_id(request.body) else "create"
            if op in ("create", "update"):
                return _Route(realm, op, entity)
            if op in ("delete", "void"):
                return _Route(realm, op, entity)
        return _Route(realm, "unsupported")

    def _execute(self, request: Request, route: _Route) -> tuple[Response, bool]:
        """Run the operation. Returns (response, whether it is the operation's real answer to remember)."""
        try:
            if route.kind == "unsupported":
                return self._fault(faults.unsupported_operation(self._resource_detail(request))), False
            if route.kind == "read":
                if not route.entity_id or not route.entity_id.isdigit():
                    raise faults.invalid_id(supplied=route.entity_id or "")
                assert route.entity is not None  # _route sets the entity of every read route
                return self._ok({route.entity: self.store.read(route.realm, route.entity, route.entity_id)}), True
            if route.kind == "query":
                return self._ok({"QueryResponse": self.store.query(route.realm, self._statement(request))}), True
            if route.kind == "cdc":
                entities, since = self._cdc_params(request)
                return self._ok({"CDCResponse": self.store.cdc(route.realm, entities, since)}), True
            body = self._json_body(request)
            if route.kind == "batch":
                return self._ok(self._batch(route.realm, body)), True
            assert route.entity is not None  # _route sets the entity of every write route
            return self._ok({route.entity: self._write(route.realm, route.kind, route.entity, body)}), True
        except faults.QBOFault as fault:
            return self._fault(fault), True

    def _write(self, realm: str, kind: str, entity: str | None, body: dict[str, Any]) -> dict[str, Any]:
        op = {"create": self.store.create, "update": self.store.update,
              "delete": self.store.delete, "void": self.store.void}[kind]
        result: dict[str, Any] = op(realm, entity, body)
        return result

    def _batch(self, realm: str, body: dict[str, Any]) -> dict[str, Any]:
        items = body.get("BatchItemRequest")
        if not isinstance(items, list) or not items:
            raise faults.required_param("BatchItemRequest", "BatchItemRequest")
        if len(items) > MAX_BATCH_ITEMS:
            # Code and wording UNCONFIRMED (no captured answer); a ValidationFault so clients treat it as their
            # error, not a transient one.
            raise faults.validation("2050", "Batch request too large",
                                    f"The maximum number of payloads in a single BatchItemRequest is "
                                    f"{MAX_BATCH_ITEMS}. Supplied: {len(items)}", "BatchItemRequest")
        out: list[dict[str, Any]] = []
        for item in items:
            bid = item.get("bId") if isinstance(item, dict) else None
            try:
                out.append({"bId": bid, **self._batch_item(realm, item)})
            except faults.QBOFault as fault:
                out.append({"bId": bid, "Fault": fault.as_fault_dict()})
        return {"BatchItemResponse": out}

    def _batch_item(self, realm: str, item: Any) -> dict[str, Any]:
        if not isinstance(item, dict) or not item.get("bId"):
            raise faults.required_param("bId", "bId")
        if "Query" in item:
            return {"QueryResponse": self.store.query(realm, str(item["Query"]))}
        keys = [k for k in item if k not in ("bId", "operation", "optionsData")]
        entity = self.store.resolve_entity(keys[0]) if len(keys) == 1 else None
        op = str(item.get("operation", "")).lower()
        if entity is None or op not in _WRITE_OPS or not isinstance(item[keys[0]], dict):
            raise faults.unsupported_operation(f"batch item {op or '?'} {'/'.join(keys) or '?'}")
        return {entity: self._write(realm, op, entity, item[keys[0]])}

    # ---- parameters ------------------------------------------------------------------------------------------------
    @staticmethod
    def _json_body(request: Request) -> dict[str, Any]:
        try:
            doc = json.loads(request.body.decode("utf-8"), parse_float=Decimal)
        except (UnicodeDecodeError, ValueError) as exc:
            detail = f"Request body is not valid JSON: {type(exc).__name__}"
            if isinstance(exc, json.JSONDecodeError):
                detail += f" at line {exc.lineno} column {exc.colno}"
            raise faults.malformed_body(detail) from None
        if not isinstance(doc, dict):
            raise faults.malformed_body("Request body must be a JSON object")
        return doc

    @staticmethod
    def _statement(request: Request) -> str:
        # GET ?query=… (Intuit's documented form, used by the Singer/Airbyte connectors) or POST with the raw
        # statement as body (python-quickbooks: Content-Type application/text).
        text = request.query.get("query", "")
        if request.method == "POST" and request.body:
            try:
                text = request.body.decode("utf-8")
            except UnicodeDecodeError:
                raise faults.invalid_query("QueryParserError: statement is not UTF-8") from None
            if request.content_type == "application/x-www-form-urlencoded" and text.startswith("query="):
                text = parse_qs(text).get("query", [""])[0]
        if not text.strip():
            raise faults.invalid_query("QueryParserError: Encountered \"<EOF>\" at line 1, column 0.")
        return text.strip()

    def _cdc_params(self, request: Request) -> tuple[list[str], datetime]:
        raw_entities = request.query.get("entities", "")
        raw_since = request.query.get("changedSince", "")
        if not raw_entities.strip():
            raise faults.required_param("entities", "entities")
        if not raw_since.strip():
            raise faults.required_param("changedSince", "changedSince")
        names = [n.strip() for n in raw_entities.split(",") if n.strip()]
        # Canonical names where the store knows them ("estimate" → "Estimate" as in VCR cdc__basic); others pass
        # through unchanged so the store answers them with its own fault or an empty section.
        entities = [self.store.resolve_entity(n) or n for n in names]
        return entities, parse_changed_since(raw_since)

    @staticmethod
    def _resource_detail(request: Request) -> str:
        host = request.header("host", "localhost")
        return (f"Could not find resource for relative : {request.path} of full path: "
                f"http://{host}{request.path}")

    # ---- responses ------------------------------------------------------------------------------------------------
    def _headers(self, content_type: str = "application/json;charset=utf-8") -> dict[str, str]:
        tid = new_tid()
        return {"Content-Type": content_type, "Intuit-Tid": tid, "X-Amzn-Trace-Id": "Root=" + tid,
                "Qbo-Version": "1944.190", "Service-Time": "total=1, db=1",
                "Strict-Transport-Security": "max-age=15552000", "Expires": "0",
                "Cache-Control": "max-age=0, no-cache, no-store, must-revalidate, private"}

    def _ok(self, doc: dict[str, Any]) -> Response:
        return Response(200, self._headers(), dump_json({**doc, "time": faults.qbo_time(self._now())}))

    def _fault(self, fault: faults.QBOFault) -> Response:
        return Response.from_fault(fault, self._now(), {"Intuit-Tid": new_tid(),
                                                        "Strict-Transport-Security": "max-age=15552000"})

    def _injected(self, kind: str) -> Response:
        if kind == "500":
            return self._fault(faults.system_fault())
        if kind == "503":
            # Intuit's gateway answers 503 with an HTML page (UNCONFIRMED body); python-quickbooks then raises
            # QuickbooksException 10000 "Error reading json response".
            return Response(503, {"Content-Type": "text/html", "Intuit-Tid": new_tid(), "Retry-After": "1"},
                            b"<html><body><h1>503 Service Unavailable</h1>"
                            b"No server is available to handle this request.</body></html>")
        if kind == "timeout":
            self.chaos.hold()
        return Response(drop=True)


def _has_id(body: bytes) -> bool:
    try:
        doc = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return False
    return isinstance(doc, dict) and doc.get("Id") not in (None, "", 0, "0")


def parse_changed_since(text: str) -> datetime:
    """``changedSince`` as CDC accepts it: ``2015-11-28`` (date only), ``2025-01-01T00:00:00`` (no offset, as
    python-quickbooks sends it), or with an offset / ``Z``. Date-only and offset-less values are read in the
    company's time zone (America/Los_Angeles) — UNCONFIRMED; it is how QBO renders every other local time, and
    being early rather than late only means re-reading a few changes."""
    from syncd.sandbox.timefmt import COMPANY_TZ

    text = text.strip()
    try:
        if len(text) == 10:
            parsed = datetime.combine(date.fromisoformat(text), datetime.min.time())
        else:
            parsed = datetime.fromisoformat(text.replace(" ", "+") if "T" in text else text)
    except ValueError:
        # Code and wording UNCONFIRMED (no captured answer for a bad changedSince).
        raise faults.validation("2020", "Invalid changedSince",
                                f"changedSince is not a valid date or dateTime: {text[:40]}",
                                "changedSince") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=COMPANY_TZ)
