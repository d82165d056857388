#!/usr/bin/env python3
"""Bootstrap for the README quickstart; needs nothing but Python >= 3.11.

    python3 scripts/dev.py demo [ARGS]   # venv + install, then `syncd demo ARGS`
    python3 scripts/dev.py test [ARGS]   # venv + install with test extras, then the whole test suite (pytest ARGS)

It creates ``.venv`` next to this repo (or uses the active virtualenv), installs syncd in editable mode
(again only when pyproject.toml changed), and for ``test`` starts a throwaway PostgreSQL server when Debian's
postgresql package is installed, so the PostgreSQL cases run too (they are skipped otherwise, unless
SYNCD_REQUIRE_POSTGRES=1, as in CI, turns a missing server into a failure).
"""

from __future__ import annotations

import glob
import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _venv_python() -> Path:
    if sys.prefix != sys.base_prefix:  # already inside a virtualenv: use it
        return Path(sys.executable)
    env_dir = ROOT / ".venv"
    py = env_dir / "bin" / "python"
    if not py.exists():
        print(f"creating {env_dir} ...", file=sys.stderr)
        try:
            venv.EnvBuilder(with_pip=True).create(env_dir)
        except Exception as exc:  # ensurepip missing (Debian: python3-venv)
            sys.exit(f"cannot create a virtualenv ({exc}); install your distribution's python3-venv package")
    return py


def _install(py: Path, extras: str) -> None:
    spec = f".[{extras}]" if extras else "."
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + extras.encode()).hexdigest()
    stamp = py.parent.parent / f".syncd-installed-{extras or 'base'}"
    if stamp.exists() and stamp.read_text() == digest:
        return
    print(f"installing syncd{spec[1:]} into {py.parent.parent} ...", file=sys.stderr)
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--upgrade", "pip"], check=True, cwd=ROOT)
    subprocess.run([str(py), "-m", "pip", "install", "-q", "-e", spec], check=True, cwd=ROOT)
    stamp.write_text(digest)


def _postgres_dsn() -> str | None:
    if os.environ.get("SYNCD_TEST_PG_DSN"):
        return os.environ["SYNCD_TEST_PG_DSN"]
    if not glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        return None
    done = subprocess.run(["bash", str(ROOT / "scripts" / "pg-test-server.sh")], capture_output=True, text=True)
    if done.returncode != 0:
        print(f"could not start PostgreSQL for the tests:\n{done.stderr}", file=sys.stderr)
        return None
    return done.stdout.strip().splitlines()[-1]


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("demo", "test"):
        print(__doc__, file=sys.stderr)
        return 2
    what, rest = argv[0], argv[1:]
    py = _venv_python()
    if what == "demo":
        _install(py, "")
        return subprocess.run([str(py), "-m", "syncd", "demo", *rest], cwd=ROOT).returncode
    _install(py, "test")
    env = dict(os.environ)
    dsn = _postgres_dsn()
    if dsn:
        env["SYNCD_TEST_PG_DSN"] = dsn
        print(f"PostgreSQL tests use {dsn}", file=sys.stderr)
    code = subprocess.run([str(py), "-m", "pytest", *rest], cwd=ROOT, env=env).returncode
    if code == 5:
        print("pytest collected no tests: that is a failure", file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
