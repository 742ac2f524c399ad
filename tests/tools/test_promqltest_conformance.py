"""Prometheus' own promqltest files, run through our runner against the known-failure list."""

import io
from pathlib import Path

from alerting_server.tools.promqltest import load_known_failures, run_file, run_files

CONFORMANCE = Path(__file__).resolve().parents[3] / "shared" / "conformance" / "promql"
KNOWN = Path(__file__).resolve().parents[2] / "alerting_server" / "tools" / "promqltest_known_failures.txt"


def test_nothing_fails_outside_the_known_failure_list() -> None:
    files = sorted(str(p) for p in CONFORMANCE.glob("*.test"))
    assert len(files) >= 10
    known = load_known_failures(KNOWN)
    out = io.StringIO()
    code = run_files(files, out, known)
    assert code == 0, out.getvalue()


def test_every_known_failure_still_fails() -> None:
    known = load_known_failures(KNOWN)
    still_failing = set()
    for name in {key.split(":")[0] for key in known}:
        report = run_file(str(CONFORMANCE / name), known)
        still_failing |= {f"{name}:{line}" for line, _, _, _ in report.failures}
    assert set(known) <= still_failing, "remove fixed cases from promqltest_known_failures.txt"


def test_native_histogram_cases_are_unsupported_not_passed() -> None:
    report = run_file(str(CONFORMANCE / "operators.test"))
    assert report.unsupported > 0
    assert report.passed > 100
