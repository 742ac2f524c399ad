"""Prometheus' own promqltest files, run through our runner against the known-failure lists.

`promql/` is the PromQL of Prometheus 2 and 3 we pass; `promql-next/` is more of Prometheus 3's
(extended range selectors, fill modifiers, duration expressions, info(), start timestamps,
type-and-unit labels), with its own list of known failures. Both run with every feature the engine
implements enabled (experimental functions, duration expressions, fill modifiers), as Prometheus'
test runner enables its flags."""

import io
import re
from pathlib import Path

import pytest

from alerting_server.query.features import KNOWN_FEATURES
from alerting_server.tools.promqltest import load_known_failures, run_file, run_files

SHARED = Path(__file__).resolve().parents[3] / "shared" / "conformance"
CONFORMANCE = SHARED / "promql"
NEXT = SHARED / "promql-next"
TOOLS = Path(__file__).resolve().parents[2] / "alerting_server" / "tools"
KNOWN = TOOLS / "promqltest_known_failures.txt"
NEXT_KNOWN = TOOLS / "promqltest_next_known_failures.txt"
NEXT_KNOWN_REASONS = load_known_failures(NEXT_KNOWN)
SUITES = [(CONFORMANCE, KNOWN, 10), (NEXT, NEXT_KNOWN, 7)]


@pytest.mark.parametrize(("folder", "known_path", "count"), SUITES, ids=["promql", "promql-next"])
def test_nothing_fails_outside_the_known_failure_list(folder: Path, known_path: Path, count: int) -> None:
    files = sorted(str(p) for p in folder.glob("*.test"))
    assert len(files) >= count
    known = load_known_failures(known_path)
    out = io.StringIO()
    code = run_files(files, out, known, KNOWN_FEATURES)
    report = out.getvalue()
    # The per-file figures, as the command prints them.
    print("\n".join(line for line in report.splitlines() if re.match(r"^\S+\.test: passed|^TOTAL", line)))
    assert code == 0, report
    assert len(re.findall(r"^\S+\.test: passed \d+", report, re.MULTILINE)) == len(files)


@pytest.mark.parametrize(("folder", "known_path", "count"), SUITES, ids=["promql", "promql-next"])
def test_every_known_failure_still_fails(folder: Path, known_path: Path, count: int) -> None:
    known = load_known_failures(known_path)
    assert all(reason for reason in known.values()), "every known failure needs its reason"
    still_failing = set()
    for name in {key.split(":")[0] for key in known}:
        report = run_file(str(folder / name), known, KNOWN_FEATURES)
        still_failing |= {f"{name}:{line}" for line, _, _, _ in report.failures}
    assert set(known) <= still_failing, f"remove fixed cases from {known_path.name}"


def test_native_histogram_cases_pass() -> None:
    report = run_file(str(CONFORMANCE / "operators.test"), None, KNOWN_FEATURES)
    # Its classic histograms loaded `with_nhcb` are histograms of custom buckets too.
    assert (report.failed, report.unsupported) == (0, 0)
    assert report.passed > 200
    histograms = run_file(str(NEXT / "native_histograms.test"), None, KNOWN_FEATURES)
    # Every case passes: selectors, functions, operators (the trims included), aggregations and
    # the histogram results of the test language.
    assert (histograms.passed, histograms.failed, histograms.unsupported) == (522, 0, 0)


def test_experimental_functions_need_their_feature() -> None:
    enabled = run_file(str(CONFORMANCE / "functions.test"), {}, KNOWN_FEATURES)
    disabled = run_file(str(CONFORMANCE / "functions.test"), {}, frozenset())
    assert enabled.failed == 0
    assert disabled.failed > 0
    assert any('function "sort_by_label" is not enabled' in detail for _, _, detail, _ in disabled.failures)
