"""Prometheus' own rule unit-test files (../shared/conformance/rules) give promtool's outcome.

unittest.yml's first test group mixes native-histogram series and expectations with float ones:
it passes as is, and a copy with exactly those histogram series and expressions removed passes too.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
import yaml

from alerting_server.tools.ruletest.runner import run_rule_tests

CONFORMANCE = Path(__file__).resolve().parents[4] / "shared" / "conformance" / "rules"
EXPECTED = {
    "long-period.yml": 0,
    "no-test-group-interval.yml": 0,
    "start-time-test.yml": 0,
    "at-modifier-test.yml": 0,
    "negative-offset-test.yml": 0,
    "rules_run.yml": 1,
    "failing.yml": 1,
    "bad-input-series.yml": 1,
    "bad-promql.yml": 1,
    "bad-rules-syntax-test.yml": 1,
    "bad-rules-error-test.yml": 1,
}


def run(path: Path) -> tuple[int, str]:
    out = io.StringIO()
    rc = run_rule_tests([str(path)], out)
    return rc, out.getvalue()


@pytest.mark.parametrize(("name", "expected"), sorted(EXPECTED.items()))
def test_conformance_file(name: str, expected: int) -> None:
    rc, output = run(CONFORMANCE / name)
    assert rc == expected, output
    assert output.startswith(f"Unit Testing:  {CONFORMANCE / name}\n")
    assert ("  SUCCESS\n" in output) == (expected == 0)
    if expected:
        assert "  FAILED:\n" in output


def _without_native_histograms(doc: dict[str, Any]) -> tuple[dict[str, Any], int]:
    removed = 0
    for group in doc["tests"]:
        series = group.get("input_series") or []
        kept = [s for s in series if "{{" not in str(s["values"])]
        removed += len(series) - len(kept)
        group["input_series"] = kept
        exprs = group.get("promql_expr_test") or []
        kept_exprs = [p for p in exprs if not any("histogram" in s for s in p.get("exp_samples") or [])]
        removed += len(exprs) - len(kept_exprs)
        group["promql_expr_test"] = kept_exprs
    return doc, removed


def test_unittest_yml_without_native_histogram_cases(tmp_path: Path) -> None:
    doc = yaml.safe_load((CONFORMANCE / "unittest.yml").read_text())
    doc, removed = _without_native_histograms(doc)
    assert removed == 6  # 3 histogram series, 3 histogram expectations: nothing else set aside
    doc["rule_files"] = [str(CONFORMANCE / f) for f in doc["rule_files"]]
    stripped = tmp_path / "unittest.yml"
    stripped.write_text(yaml.safe_dump(doc))
    rc, output = run(stripped)
    assert rc == 0, output


def test_unittest_yml_as_is_passes_with_its_native_histograms() -> None:
    rc, output = run(CONFORMANCE / "unittest.yml")
    assert rc == 0, output


def test_fuzzy_compare_accepts_one_ulp_only_when_asked() -> None:
    rc, fuzzy = run(CONFORMANCE / "rules_run_fuzzy.yml")
    assert rc == 1
    assert "2.9999999999999987E+00" in fuzzy
    assert "2.9999999999999996E+00" not in fuzzy
    rc, exact = run(CONFORMANCE / "rules_run_no_fuzzy.yml")
    assert rc == 1
    assert "2.9999999999999996E+00" in exact
