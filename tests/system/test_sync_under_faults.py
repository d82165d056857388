"""Whole cycles through injected 5xx, dropped connections, timeouts, 429 storms and an expired access token.

The connector's contract tests prove each retry path alone; here the real engine must end with a mirror equal
to the sandbox after a backfill and an incremental cycle that hit all of them at once, without duplicates.
"""

from __future__ import annotations

from typing import Any

from syncsupport import Changer, Harness

RETRY = {
    "attempts": 15,
    "initial_backoff_seconds": 0.01,
    "max_backoff_seconds": 0.1,
    "throttle_backoff_seconds": 1.0,  # the sandbox's throttle window below is one second
    "timeout_seconds": 1,
}


def test_backfill_and_incremental_converge_through_faults_throttling_and_token_expiry(make_harness: Any) -> None:
    h: Harness = make_harness(retry=RETRY, timeout_hold_s=1.5)
    h.sandbox.set_faults(0.2, kinds=("500", "503", "drop", "timeout"), seed=5)
    h.sandbox.set_limits(per_second=2)  # a 429 storm: the client allows itself 10 per second
    first = h.cycle()
    assert first.quarantined == 0 and first.backfilled
    stats = h.connector.stats
    assert stats.retries > 0 and stats.throttled > 0, stats  # faults and 429s really hit the backfill
    h.sandbox.set_faults(0.0)
    h.sandbox.set_limits(per_second=10)
    h.assert_mirror_equals_sandbox()

    Changer(h, seed=23).run(n=10)
    h.sandbox.advance_clock(2 * 3600)  # every access token the sandbox issued has expired
    h.sandbox.inject_fault("500", 1)  # and the first answer after the refresh is a server error
    second = h.cycle()
    assert h.connector.stats.refreshes_on_401 >= 1
    assert second.rows_written > 0
    h.assert_mirror_equals_sandbox()

    idle = h.cycle()
    assert (idle.api_calls, idle.rows_written) == (1, 0)
