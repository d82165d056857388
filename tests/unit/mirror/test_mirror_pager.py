"""The stable pager loses no row when rows are deleted, updated or created between pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from syncd.sync.pager import sweep


class FakeQBO:
    """Ordered-by-Id pages over a list that a hook may change before each request."""

    def __init__(self, ids: list[int], hook: Callable[[list[int], int], None] | None = None) -> None:
        self.ids = sorted(ids)
        self.hook = hook
        self.requests = 0
        self.company, self.realm_id = "c", "1"

    def query_page(self, entity: str, *, where: str | None = None, order_by: str = "Id", start: int = 1,
                   max_results: int = 1000, include_inactive: bool = True) -> list[dict[str, Any]]:
        assert order_by == "Id"
        if self.hook:
            self.hook(self.ids, self.requests)
        self.requests += 1
        return [{"Id": str(i)} for i in self.ids[start - 1:start - 1 + max_results]]


def read_all(fake: FakeQBO, size: int) -> list[str]:
    out: list[str] = []
    for page in sweep(fake, "Invoice", page_size=size):  # type: ignore[arg-type]
        out.extend(r["Id"] for r in page.rows)
    return out


def test_plain_sweep_reads_everything_once() -> None:
    fake = FakeQBO(list(range(1, 24)))
    assert read_all(fake, 5) == [str(i) for i in range(1, 24)]


@settings(max_examples=200, deadline=None)
@given(n=st.integers(0, 60), size=st.integers(2, 9), seed=st.randoms(use_true_random=False))
def test_rows_present_throughout_are_all_read(n: int, size: int, seed: Any) -> None:
    """Rows that exist from start to end are read whatever is deleted or created meanwhile."""
    initial = list(range(1, n + 1))
    doomed = set(seed.sample(initial, k=seed.randint(0, n))) if n else set()
    survivors = [i for i in initial if i not in doomed]
    next_id = [n + 1]

    def hook(ids: list[int], _request: int) -> None:
        for _ in range(seed.randint(0, 4)):  # several at once: one is absorbed by the one-row overlap
            if not doomed:
                break
            victim = seed.choice(sorted(doomed))
            doomed.discard(victim)
            ids.remove(victim)
        if seed.random() < 0.3:
            ids.append(next_id[0])
            next_id[0] += 1

    fake = FakeQBO(initial, hook)
    got = read_all(fake, size)
    assert set(map(str, survivors)) <= set(got)
    assert len(got) == len(set(got)), "a row was handed on twice"


def test_resume_from_a_committed_page() -> None:
    fake = FakeQBO(list(range(1, 31)))
    pages = sweep(fake, "Invoice", page_size=10)  # type: ignore[arg-type]
    first = next(pages)
    rest = [r["Id"] for p in sweep(fake, "Invoice", page_size=10, position=first.position,  # type: ignore[arg-type]
                                     last_id=first.last_id) for r in p.rows]
    assert [r["Id"] for r in first.rows] + rest == [str(i) for i in range(1, 31)]
