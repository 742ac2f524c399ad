"""A failed test of several replicas prints the end of each replica's log: the evidence of what each
process did is otherwise gone with the test's folder."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

_REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()
TAIL_LINES = 150


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    item.stash.setdefault(_REPORTS, {})[report.when] = report
    return report


@pytest.fixture(autouse=True)
def _replica_logs_on_failure(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[None]:
    yield
    reports = request.node.stash.get(_REPORTS, {})
    if not any(r.failed for r in reports.values()):
        return
    for log in sorted(tmp_path.glob("r*.log")):
        lines = log.read_text().splitlines()
        print(f"===== {log.name}: last {min(len(lines), TAIL_LINES)} of {len(lines)} lines =====")
        print("\n".join(lines[-TAIL_LINES:]))
