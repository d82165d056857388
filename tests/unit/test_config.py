"""The config loader: the example loads, and every error message names its dotted key."""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from syncd.config import Config, SecretSource, find_config, load_config, parse_config
from syncd.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
ENV = {"SYNCD_ACME_CLIENT_SECRET": "s3cret"}

COMPANY = """
[[company]]
name = "acme"
realm_id = "123"
client_id = "cid"
client_secret = { env = "SYNCD_ACME_CLIENT_SECRET" }
"""


def problems(text: str, environ: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(text, "test.toml", ENV if environ is None else environ)
    return info.value.problems


def test_example_config_loads(tmp_path: Path) -> None:
    cred = tmp_path / "creds"
    cred.mkdir()
    (cred / "acme-client-secret").write_text("from-systemd\n")
    config = load_config(ROOT / "config.example.toml", {"CREDENTIALS_DIRECTORY": str(cred)})
    company = config.get_company("acme")
    assert company.realm_id == "9341453050344839"
    assert company.client_secret.resolve({"CREDENTIALS_DIRECTORY": str(cred)}).get_secret_value() == "from-systemd"
    # floats in TOML arrive as exact Decimals
    assert company.retry.initial_backoff_seconds == Decimal("0.5")
    assert isinstance(company.retry.initial_backoff_seconds, Decimal)


def test_empty_file_is_valid_with_defaults() -> None:
    config = parse_config("", environ={})
    assert config.company == ()
    assert config.sync.page_size == 1000
    assert config.database.resolve_url({}) == "sqlite:///syncd.db"


def test_config_is_read_only() -> None:
    config = parse_config(COMPANY, environ=ENV)
    with pytest.raises(ValidationError):
        config.company[0].name = "other"  # type: ignore[misc]


def test_all_problems_reported_at_once() -> None:
    found = problems(
        """
[sync]
interval_seconds = 5
bogus = 1
[[company]]
name = "Acme Co"
realm_id = "abc"
client_id = "x"
client_secret = { env = "X" }
"""
    )
    assert found == [
        "sync.interval_seconds: must be at least 10 (got 5)",
        "sync.bogus: unknown key (check the spelling; see config.example.toml)",
        "company[0].name: use lower-case letters, digits, '-' or '_' (it appears in commands and file names) "
        "(got 'Acme Co')",
        "company[0].realm_id: a QuickBooks realm id is a number (got 'abc')",
    ]


def test_toml_syntax_error_names_line() -> None:
    (msg,) = problems("[sync\ninterval_seconds = 5")
    assert msg.startswith("TOML syntax: ") and "line 1" in msg


def test_missing_required_key() -> None:
    assert "company[0].client_id: required key is missing" in problems(
        COMPANY.replace('client_id = "cid"\n', "")
    )


def test_secret_needs_exactly_one_source() -> None:
    found = problems(COMPANY.replace('{ env = "SYNCD_ACME_CLIENT_SECRET" }', '{ env = "A", file = "/x" }'))
    assert found == ["company[0].client_secret: give exactly one of env, file or credential"]


def test_inline_secret_is_refused() -> None:
    found = problems(COMPANY.replace('{ env = "SYNCD_ACME_CLIENT_SECRET" }', '"plaintext"'))
    assert len(found) == 1 and found[0].startswith("company[0].client_secret: ")
    assert "plaintext" not in found[0]


def test_secret_env_missing() -> None:
    assert problems(COMPANY, environ={}) == [
        "company[0].client_secret: environment variable SYNCD_ACME_CLIENT_SECRET is not set"
    ]


def test_secret_file_unreadable_and_empty(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    assert problems(COMPANY.replace('{ env = "SYNCD_ACME_CLIENT_SECRET" }', f'{{ file = "{missing}" }}')) == [
        f"company[0].client_secret: cannot read {missing}: No such file or directory"
    ]
    empty = tmp_path / "empty"
    empty.write_text("\n")
    assert problems(COMPANY.replace('{ env = "SYNCD_ACME_CLIENT_SECRET" }', f'{{ file = "{empty}" }}')) == [
        f"company[0].client_secret: {empty} is empty"
    ]


def test_secret_credential_needs_systemd_dir() -> None:
    found = problems(COMPANY.replace('{ env = "SYNCD_ACME_CLIENT_SECRET" }', '{ credential = "acme" }'))
    assert found == [
        "company[0].client_secret: credential 'acme': $CREDENTIALS_DIRECTORY is not set "
        "(use LoadCredential= in the systemd unit)"
    ]


def test_plain_http_only_on_loopback() -> None:
    bad = COMPANY + 'environment = "http://qbo.example.com/.well-known/openid_configuration"\n'
    assert problems(bad) == [
        "company[0].environment: plain http is only allowed for loopback hosts; use https "
        "(got 'http://qbo.example.com/.well-known/openid_configuration')"
    ]
    ok = COMPANY + 'environment = "http://127.0.0.1:8000/.well-known/openid_configuration"\n'
    ok += 'api_base = "http://localhost:8000/v3/"\n'
    company = parse_config(ok, environ=ENV).company[0]
    assert company.api_base == "http://localhost:8000/v3"


def test_environment_must_be_known_or_url() -> None:
    assert problems(COMPANY + 'environment = "staging"\n') == [
        "company[0].environment: expected 'production', 'sandbox' or an http(s) URL (got 'staging')"
    ]


def test_api_base_must_end_in_v3() -> None:
    assert problems(COMPANY + 'api_base = "https://example.com/api"\n') == [
        "company[0].api_base: must end in /v3 (got 'https://example.com/api')"
    ]


def test_minorversion_floor() -> None:
    assert problems(COMPANY + "minorversion = 65\n") == [
        "company[0].minorversion: must be at least 75 (got 65)"
    ]


def test_limits_stay_under_qbo_throttle() -> None:
    found = problems(COMPANY + "[company.limits]\nrequests_per_minute = 900\nmax_in_flight = 20\n")
    assert found == [
        "company[0].limits.requests_per_minute: must be at most 500 (got 900)",
        "company[0].limits.max_in_flight: must be at most 10 (got 20)",
    ]


def test_retry_backoff_order() -> None:
    found = problems(COMPANY + "[company.retry]\ninitial_backoff_seconds = 5\nmax_backoff_seconds = 1.5\n")
    assert found == ["company[0].retry.max_backoff_seconds: must be >= initial_backoff_seconds (got 1.5 < 5)"]


def test_duplicate_company_names() -> None:
    assert problems(COMPANY + COMPANY) == ["company[1].name: duplicate company name 'acme' (also company[0])"]


def test_database_url_or_env() -> None:
    assert problems('[database]\nurl = "sqlite:///a.db"\nurl_env = "X"\n') == [
        "database: give url or url_env, not both"
    ]
    assert problems('[database]\nurl = "mysql://x"\n') == [
        "database: url must start with sqlite: or postgresql (got 'mysql')"
    ]
    assert problems('[database]\nurl_env = "SYNCD_DB"\n', environ={}) == [
        "database.url_env: environment variable SYNCD_DB is not set"
    ]
    assert parse_config('[database]\nurl_env = "SYNCD_DB"\n', environ={"SYNCD_DB": "postgresql://x"}).database.resolve_url(
        {"SYNCD_DB": "postgresql://x"}
    ) == "postgresql://x"


def test_get_company_names_choices() -> None:
    config = parse_config(COMPANY + COMPANY.replace('"acme"', '"beta"'), environ=ENV)
    with pytest.raises(ConfigError) as info:
        config.get_company(None)
    assert info.value.problems == ["company: pass --company NAME (configured: acme, beta)"]
    with pytest.raises(ConfigError) as info:
        config.get_company("gamma")
    assert info.value.problems == ["company: no company named 'gamma' (configured: acme, beta)"]


def test_secret_source_is_not_a_float_sink() -> None:
    # A secret object never renders its value.
    src = SecretSource(env="X")
    assert "hunter2" not in repr(src.resolve({"X": "hunter2"}))


def test_find_config_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SYNCD_CONFIG", raising=False)
    with pytest.raises(ConfigError):
        find_config(None)
    (tmp_path / "syncd.toml").write_text("")
    assert find_config(None) == Path("syncd.toml")
    monkeypatch.setenv("SYNCD_CONFIG", "/elsewhere.toml")
    assert find_config(None) == Path("/elsewhere.toml")


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "syncd", *args], capture_output=True, text=True, env=full_env)


def test_cli_config_check_ok_and_problems(tmp_path: Path) -> None:
    good = tmp_path / "good.toml"
    good.write_text(COMPANY)
    done = _cli("config", "check", str(good), env=ENV)
    assert done.returncode == 0, done.stderr
    assert "OK (acme)" in done.stdout

    bad = tmp_path / "bad.toml"
    bad.write_text(COMPANY + "colour = 'blue'\n")
    done = _cli("config", "check", str(bad), env=ENV)
    assert done.returncode == 2
    assert "company[0].colour: unknown key" in done.stderr
    assert "syncd config check" in done.stderr  # the hint


def test_model_rejects_python_float_for_decimals() -> None:
    from syncd.configbase import Dec, Section

    class Q(Section):
        qty: Dec

    with pytest.raises(ValidationError) as info:
        Q(qty=1.5)  # type: ignore[arg-type]
    assert "got a float" in str(info.value)
    assert Q(qty="1.50").qty == Decimal("1.50")
    assert Config.model_fields["company"].default == ()
