"""One virtual environment per third-party connector, under ``bench/.venvs/`` (git-ignored), created on first use
with the ordinary ``pip`` client. A peer's installed files are never edited: its Intuit URLs are rewritten at run
time by ``bench/peers/redirect/sitecustomize.py``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from harness import BENCH

VENVS = BENCH / ".venvs"
REDIRECT = Path(__file__).resolve().parent / "redirect"


def _base_python() -> str:
    # The interpreter the syncd venv was made from (3.11), not the venv's own python.
    return getattr(sys, "_base_executable", sys.executable)


def ensure(name: str, requirements: list[str]) -> Path:
    """The venv's directory, created and populated with ``requirements`` unless its marker says it already is."""
    root = VENVS / name
    marker = root / "bench-installed.json"
    if marker.exists() and json.loads(marker.read_text()) == requirements:
        return root
    if not (root / "bin" / "python").exists():
        subprocess.run([_base_python(), "-m", "venv", str(root)], check=True)
    log = VENVS / f"{name}.install.log"
    with open(log, "wb") as out:
        done = subprocess.run([str(root / "bin" / "python"), "-m", "pip", "install", *requirements],
                              stdout=out, stderr=subprocess.STDOUT, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"pip install {' '.join(requirements)} failed; see {log}")
    marker.write_text(json.dumps(requirements))
    return root


def installed_version(root: Path, dist: str) -> str:
    out = subprocess.run([str(root / "bin" / "python"), "-c",
                          f"import importlib.metadata as m; print(m.version({dist!r}))"],
                         capture_output=True, text=True, check=False)
    return out.stdout.strip() or "?"


def redirect_env(env: dict[str, str], base_url: str) -> dict[str, str]:
    """``env`` plus what the redirect shim needs: its directory on PYTHONPATH and the sandbox's base URL."""
    return {**env, "PYTHONPATH": str(REDIRECT), "BENCH_QBO_BASE": base_url}
