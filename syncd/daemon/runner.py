"""The scheduler behind ``syncd run`` (APScheduler 3.x).

Contract:
- one interval job per company (``sync.interval_seconds``), first run at start-up; ``max_instances=1`` and
  ``coalesce=True``, so cycles of one company never overlap and a late cycle runs once, not as a burst;
- before each cycle the company's worker lock is taken (or found still held); a company another replica or
  process holds is skipped this tick and retried on the next (fail-over when that holder dies);
- a failing cycle is logged and recorded (``syncd status`` shows it) and never stops the daemon;
- SIGTERM/SIGINT: no new cycles start, the running one finishes and commits, locks are released, exit 0;
- systemd: ``READY=1`` once scheduled, ``WATCHDOG=1`` at half the watchdog interval while the scheduler
  lives, ``STATUS=`` after each cycle, ``STOPPING=1`` on the way out.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import structlog
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.blocking import BlockingScheduler

from syncd.config import CompanyConfig, Config
from syncd.daemon.locks import CompanyLock
from syncd.daemon.sdnotify import Notifier
from syncd.errors import AuthError, SyncdError

log = structlog.get_logger("syncd.daemon")

#: Runs one whole cycle for a company (sync, ledger, reorder); returns a one-line summary.
CycleFn = Callable[[CompanyConfig], str]


class Daemon:
    def __init__(
        self,
        config: Config,
        cycle: CycleFn,
        locks: dict[str, CompanyLock],
        notifier: Notifier | None = None,
    ) -> None:
        self.config = config
        self.cycle = cycle
        self.locks = locks
        self.notifier = notifier or Notifier()
        self.scheduler = BlockingScheduler(
            timezone=UTC,
            executors={"default": ThreadPoolExecutor(max_workers=max(1, len(config.company)))},
            job_defaults={"coalesce": True, "max_instances": 1,
                          "misfire_grace_time": config.sync.interval_seconds},
        )
        self._stopping = threading.Event()
        self._last: dict[str, str] = {}

    def run(self) -> int:
        now = datetime.now(UTC)
        for company in self.config.company:
            self.scheduler.add_job(self._tick, "interval", seconds=self.config.sync.interval_seconds,
                                   args=[company], id=f"sync:{company.name}", next_run_time=now)
        if self.notifier.watchdog_seconds:
            self.scheduler.add_job(self.notifier.watchdog, "interval", id="watchdog",
                                   seconds=max(1.0, self.notifier.watchdog_seconds / 2), next_run_time=now)
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._on_signal)
        names = ", ".join(c.name for c in self.config.company)
        self.notifier.ready(f"syncing {names} every {self.config.sync.interval_seconds}s")
        log.info("daemon.started", companies=names, interval_seconds=self.config.sync.interval_seconds)
        try:
            self.scheduler.start()  # blocks until shutdown
        finally:
            for lock in self.locks.values():
                lock.release()
            log.info("daemon.stopped")
        return 0

    def _on_signal(self, signum: int, _frame: Any) -> None:
        if self._stopping.is_set():
            return
        self._stopping.set()
        self.notifier.stopping()
        log.info("daemon.stopping", signal=signal.Signals(signum).name)
        # Runs in the main thread, which start() blocks in: shutdown(wait=True) lets the running cycle finish.
        self.scheduler.shutdown(wait=True)

    def _tick(self, company: CompanyConfig) -> None:
        if self._stopping.is_set():
            return
        lock = self.locks[company.name]
        if not lock.try_acquire():
            log.info("daemon.company_held_elsewhere", company=company.name)
            self._report(company.name, "held by another worker")
            return
        try:
            summary = self.cycle(company)
        except AuthError as exc:
            log.error("daemon.auth_failed", company=company.name, error=str(exc), hint=exc.hint)
            self._report(company.name, "needs reconnection (syncd auth)")
            return
        except SyncdError as exc:
            log.warning("daemon.cycle_failed", company=company.name, error=str(exc))
            self._report(company.name, f"last cycle failed: {exc}")
            return
        except Exception as exc:  # never let one company's bug stop the daemon; the traceback names the place
            log.error("daemon.cycle_crashed", company=company.name, error_type=type(exc).__name__, exc_info=True)
            self._report(company.name, f"last cycle crashed ({type(exc).__name__})")
            return
        log.info("daemon.cycle_done", company=company.name, summary=summary)
        self._report(company.name, "ok")

    def _report(self, company: str, state: str) -> None:
        self._last[company] = state
        self.notifier.status("; ".join(f"{name}: {s}" for name, s in sorted(self._last.items())))
