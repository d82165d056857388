"""``syncd auth [--company NAME] [--redirect-url URL] [--no-listen] [--config PATH]``: connect QuickBooks (OAuth).

1. Prints the authorization URL to open in a browser (QuickBooks' consent screen).
2. Completes the authorization-code grant from, in order of preference:
   ``--redirect-url`` (the full URL the browser was sent back to, pasted from the address bar);
   a one-shot local callback server when the company's ``redirect_uri`` is a loopback ``http://`` URL
   (e.g. ``http://localhost:8765/callback``, registered in the Intuit developer portal) — unless ``--no-listen``;
   otherwise the redirect URL pasted on standard input.
3. Saves the tokens in the database (committed before anything uses them) and clears "needs reconnect".

The state parameter is checked whenever this run produced it (callback or pasted URL). Tokens are never printed.
Exit codes: 0 connected, 1 QuickBooks refused (wrong company, expired code …), 2 configuration problems.
"""

from __future__ import annotations

import argparse
import secrets
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import urlsplit

from syncd.commands._common import load, open_mirror
from syncd.errors import AuthError

CALLBACK_TIMEOUT_SECONDS = 300


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("auth", help="connect a QuickBooks company (OAuth authorization)")
    p.add_argument("--company", metavar="NAME", help="the company to connect (default: the only one)")
    p.add_argument("--redirect-url", metavar="URL", help="the URL QuickBooks redirected the browser to")
    p.add_argument("--no-listen", action="store_true", help="do not start a local callback server; paste instead")
    p.add_argument("--config", metavar="PATH", help="config file (default: $SYNCD_CONFIG, ./syncd.toml, …)")
    p.set_defaults(handler=_auth)


def _auth(args: argparse.Namespace) -> int:
    from syncd.connectors.oauth import authorization_url, exchange_code, make_auth_client
    from syncd.mirror.tokens import DbTokenStore

    config = load(args.config)
    company = config.get_company(args.company)
    with open_mirror(config) as (engine, sessions):
        store = DbTokenStore(sessions)
        client = make_auth_client(company)
        if args.redirect_url:
            redirect, state = args.redirect_url, None
        else:
            state = secrets.token_urlsafe(24)
            print("Open this URL in a browser and connect the QuickBooks company:", flush=True)
            print(f"  {authorization_url(company, state, auth_client=client)}", flush=True)
            if not args.no_listen and _listenable(company.redirect_uri):
                print(f"Waiting for QuickBooks to redirect to {company.redirect_uri} …", flush=True)
                redirect = _await_callback(company.redirect_uri)
            else:
                print("Then paste the full URL your browser was redirected to:", flush=True)
                redirect = sys.stdin.readline().strip()
                if not redirect:
                    raise AuthError("no redirect URL given", company=company.name)
        saved = exchange_code(company, store, redirect, expected_state=state, auth_client=client)
    expiry = saved.refresh_expires_at.date().isoformat() if saved.refresh_expires_at else "unknown"
    print(f"{company.name}: connected to QuickBooks company {company.realm_id}; "
          f"the connection must be used again before {expiry} (syncd does so on every sync)")
    return 0


def _listenable(redirect_uri: str) -> bool:
    parts = urlsplit(redirect_uri)
    return parts.scheme == "http" and parts.hostname in ("localhost", "127.0.0.1", "::1")


def _await_callback(redirect_uri: str) -> str:
    """Serve one request on the redirect URI's port and return the full URL it was called with."""
    parts = urlsplit(redirect_uri)
    received: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if urlsplit(self.path).path != (parts.path or "/"):
                self.send_error(404)
                return
            received.append(f"{parts.scheme}://{parts.netloc}{self.path}")
            body = b"syncd: QuickBooks connected. You can close this window.\n"
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:  # the query string carries the code: never log it
            return

    host = "127.0.0.1" if parts.hostname == "localhost" else str(parts.hostname)
    server = HTTPServer((host, parts.port or 80), Handler)
    server.timeout = 1
    stop = threading.Event()
    timer = threading.Timer(CALLBACK_TIMEOUT_SECONDS, stop.set)
    timer.start()
    try:
        while not received and not stop.is_set():
            server.handle_request()
    finally:
        timer.cancel()
        server.server_close()
    if not received:
        raise AuthError(f"no redirect arrived within {CALLBACK_TIMEOUT_SECONDS} s; run `syncd auth` again")
    return received[0]
