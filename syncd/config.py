"""The one TOML file an admin edits, loaded into a typed, read-only model.

Loading collects **every** problem before failing (TOML syntax, unknown keys, bad values, missing secrets) and
reports each as ``dotted.key: message``. Secrets are never inline: they come from an environment variable, a
file (mode 0600 recommended) or a systemd credential (``LoadCredential=``).
"""

from __future__ import annotations

import os
import re
import tomllib
from decimal import Decimal
from ipaddress import ip_address
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator, model_validator

from syncd.configbase import Section, format_errors
from syncd.errors import ConfigError
from syncd.ledger.config import BackorderConfig
from syncd.rules.config import ReorderConfig

DEFAULT_CONFIG_PATHS = (Path("syncd.toml"), Path("/etc/syncd/syncd.toml"))
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


class SecretSource(Section):
    """Where a secret lives. Exactly one of ``env``, ``file`` or ``credential``."""

    env: str | None = None
    file: Path | None = None
    credential: str | None = Field(default=None, description="name under $CREDENTIALS_DIRECTORY (systemd)")

    @model_validator(mode="after")
    def _exactly_one(self) -> SecretSource:
        given = [k for k in ("env", "file", "credential") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of env, file or credential")
        return self

    def describe(self) -> str:
        if self.env is not None:
            return f"environment variable {self.env}"
        if self.file is not None:
            return f"file {self.file}"
        return f"systemd credential {self.credential}"

    def resolve(self, environ: dict[str, str] | None = None) -> SecretStr:
        """Read the secret. Raises ``ValueError`` with a message fit for the admin (never the value)."""
        env = os.environ if environ is None else environ
        if self.env is not None:
            value = env.get(self.env)
            if not value:
                raise ValueError(f"environment variable {self.env} is not set")
            return SecretStr(value)
        if self.file is not None:
            path = self.file
        else:
            cred_dir = env.get("CREDENTIALS_DIRECTORY")
            if not cred_dir:
                raise ValueError(
                    f"credential {self.credential!r}: $CREDENTIALS_DIRECTORY is not set "
                    "(use LoadCredential= in the systemd unit)"
                )
            path = Path(cred_dir) / str(self.credential)
        try:
            value = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ValueError(f"cannot read {path}: {exc.strerror or exc}") from None
        if not value:
            raise ValueError(f"{path} is empty")
        return SecretStr(value)


class RetryConfig(Section):
    """Backoff for idempotent calls (and POSTs with the same requestid)."""

    attempts: int = Field(default=6, ge=1, le=50)
    initial_backoff_seconds: Decimal = Field(default=Decimal("0.5"), gt=0)
    max_backoff_seconds: Decimal = Field(default=Decimal(30), gt=0)
    throttle_backoff_seconds: Decimal = Field(default=Decimal(60), ge=0, description="wait after HTTP 429")
    timeout_seconds: Decimal = Field(default=Decimal(60), gt=0, description="per HTTP request")

    @field_validator("max_backoff_seconds")
    @classmethod
    def _order(cls, v: Decimal, info: ValidationInfo) -> Decimal:
        initial = info.data.get("initial_backoff_seconds")
        if initial is not None and v < initial:
            raise ValueError(f"must be >= initial_backoff_seconds (got {v} < {initial})")
        return v


class LimitsConfig(Section):
    """Client-side limits per realm; QBO throttles at 500/min, 10/s and 10 concurrent (QBO_FACTS §3)."""

    requests_per_minute: int = Field(default=450, ge=1, le=500)
    # QBO also caps a realm at 10 requests per second; the limiter counts it over 1.1 s to absorb clock jitter.
    requests_per_second: int = Field(default=10, ge=1, le=10)
    max_in_flight: int = Field(default=8, ge=1, le=10)


class CompanyConfig(Section):
    """One QuickBooks company (realm). ``[[company]]`` may repeat."""

    name: str
    realm_id: str
    client_id: str
    client_secret: SecretSource
    environment: str = Field(default="production", description="production, sandbox, or a discovery URL")
    api_base: str | None = Field(default=None, description="override of the v3 API base, ending in /v3")
    redirect_uri: str = "http://localhost:8765/callback"
    minorversion: int = Field(default=75, ge=75)
    limits: LimitsConfig = LimitsConfig()
    retry: RetryConfig = RetryConfig()

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not NAME_RE.match(v):
            raise ValueError("use lower-case letters, digits, '-' or '_' (it appears in commands and file names)")
        return v

    @field_validator("realm_id")
    @classmethod
    def _realm(cls, v: str) -> str:
        if not v.isdigit():
            raise ValueError(f"a QuickBooks realm id is a number (got {v!r})")
        return v

    @field_validator("environment")
    @classmethod
    def _environment(cls, v: str) -> str:
        if v in ("production", "sandbox"):
            return v
        _check_url(v)
        return v

    @field_validator("api_base")
    @classmethod
    def _api_base(cls, v: str | None) -> str | None:
        if v is None:
            return v
        _check_url(v)
        v = v.rstrip("/")
        if not v.endswith("/v3"):
            raise ValueError(f"must end in /v3 (got {v!r})")
        return v


def _check_url(url: str) -> None:
    """https everywhere; plain http only for loopback hosts (the local sandbox)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"expected 'production', 'sandbox' or an http(s) URL (got {url!r})")
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise ValueError(f"plain http is only allowed for loopback hosts; use https (got {url!r})")


def is_loopback_host(host: str) -> bool:
    """``localhost`` or a loopback IP (127.0.0.0/8, ::1): the only hosts plain http may reach."""
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


class DatabaseConfig(Section):
    """SQLite by default; PostgreSQL (``postgresql+psycopg://…``) for production and several replicas."""

    url: str | None = None
    url_env: str | None = Field(default=None, description="read the URL (with its password) from this variable")

    @model_validator(mode="after")
    def _one(self) -> DatabaseConfig:
        if self.url is not None and self.url_env is not None:
            raise ValueError("give url or url_env, not both")
        if self.url is not None and not self.url.startswith(("sqlite:", "postgresql")):
            raise ValueError(f"url must start with sqlite: or postgresql (got {self.url.split(':')[0]!r})")
        return self

    def resolve_url(self, environ: dict[str, str] | None = None) -> str:
        env = os.environ if environ is None else environ
        if self.url_env is not None:
            value = env.get(self.url_env)
            if not value:
                raise ValueError(f"environment variable {self.url_env} is not set")
            return value
        return self.url or "sqlite:///syncd.db"


class SyncConfig(Section):
    """How the mirror is kept (SPEC §2)."""

    interval_seconds: int = Field(default=300, ge=10)
    overlap_seconds: int = Field(default=300, ge=0, le=86400, description="re-read window each cycle")
    cdc_lookback_days: int = Field(default=30, ge=1, le=30)
    page_size: int = Field(default=1000, ge=1, le=1000)
    drift_check_hours: Decimal = Field(default=Decimal(24), gt=0)
    entities: tuple[
        Literal["Item", "Vendor", "Customer", "Account", "Invoice", "SalesReceipt", "PurchaseOrder", "Bill"], ...
    ] = ("Item", "Vendor", "Customer", "Account", "Invoice", "SalesReceipt", "PurchaseOrder", "Bill")


class LoggingConfig(Section):
    level: Literal["debug", "info", "warning", "error"] = "info"
    format: Literal["auto", "json", "console"] = "auto"


class Config(Section):
    """The whole file."""

    database: DatabaseConfig = DatabaseConfig()
    logging: LoggingConfig = LoggingConfig()
    sync: SyncConfig = SyncConfig()
    company: tuple[CompanyConfig, ...] = ()
    backorders: BackorderConfig = BackorderConfig()
    reorder: ReorderConfig = ReorderConfig()

    def get_company(self, name: str | None) -> CompanyConfig:
        """The named company, or the only one. Raises ConfigError naming the ``--company`` choice."""
        if name is None:
            if len(self.company) == 1:
                return self.company[0]
            names = ", ".join(c.name for c in self.company) or "none configured"
            raise ConfigError([f"company: pass --company NAME (configured: {names})"])
        for c in self.company:
            if c.name == name:
                return c
        names = ", ".join(c.name for c in self.company) or "none configured"
        raise ConfigError([f"company: no company named {name!r} (configured: {names})"])


def parse_config(text: str, source: str = "<config>", environ: dict[str, str] | None = None) -> Config:
    """Parse and validate TOML text; resolve secrets to check they exist. Raises ConfigError with all problems."""
    try:
        raw = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"TOML syntax: {exc}"], source) from None
    try:
        config = Config.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(format_errors(exc), source) from None
    problems = cross_checks(config) + check_secrets(config, environ)
    if problems:
        raise ConfigError(problems, source)
    return config


def cross_checks(config: Config) -> list[str]:
    """Checks that span several keys of the file."""
    problems = []
    seen: dict[str, int] = {}
    for i, c in enumerate(config.company):
        if c.name in seen:
            problems.append(f"company[{i}].name: duplicate company name {c.name!r} (also company[{seen[c.name]}])")
        seen.setdefault(c.name, i)
    return problems


def check_secrets(config: Config, environ: dict[str, str] | None = None) -> list[str]:
    """Every secret the config names must be readable now (the daemon cannot start otherwise)."""
    problems = []
    for i, c in enumerate(config.company):
        try:
            c.client_secret.resolve(environ)
        except ValueError as exc:
            problems.append(f"company[{i}].client_secret: {exc}")
    try:
        config.database.resolve_url(environ)
    except ValueError as exc:
        problems.append(f"database.url_env: {exc}")
    return problems


def find_config(path: str | os.PathLike[str] | None) -> Path:
    """The config file to use: the argument, $SYNCD_CONFIG, ./syncd.toml, /etc/syncd/syncd.toml."""
    if path is not None:
        return Path(path)
    env = os.environ.get("SYNCD_CONFIG")
    if env:
        return Path(env)
    for candidate in DEFAULT_CONFIG_PATHS:
        if candidate.exists():
            return candidate
    raise ConfigError(
        ["no config file: pass --config PATH, set SYNCD_CONFIG, or create ./syncd.toml (see config.example.toml)"]
    )


def load_config(path: str | os.PathLike[str] | None = None, environ: dict[str, str] | None = None) -> Config:
    p = find_config(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"cannot read config file {p}: {exc.strerror or exc}"]) from None
    return parse_config(text, str(p), environ)
