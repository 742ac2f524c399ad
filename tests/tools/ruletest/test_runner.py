"""The promtool test-rules runner on small files written by the test."""

from __future__ import annotations

import io
from pathlib import Path

from alerting_server.tools.ruletest.runner import run_rule_tests

RULES = """
groups:
  - name: first
    rules:
      - record: doubled
        expr: metric * 2
  - name: second
    rules:
      - alert: High
        expr: doubled > 5
        for: 2m
        labels:
          severity: page
        annotations:
          summary: "{{ $labels.job }} is {{ $value }} in {{ $externalLabels.dc }}"
"""


def run(tmp_path: Path, test: str, rules: str = RULES) -> tuple[int, str, str]:
    (tmp_path / "rules.yml").write_text(rules)
    path = tmp_path / "test.yml"
    path.write_text(test)
    out, err = io.StringIO(), io.StringIO()
    rc = run_rule_tests([str(path)], out, err)
    return rc, out.getvalue(), err.getvalue()


PASSING = """
rule_files: [rules.yml]
evaluation_interval: 1m
tests:
  - interval: 1m
    external_labels: {dc: eu1}
    input_series:
      - series: 'metric{job="api"}'
        values: '1 3+0x10'
    alert_rule_test:
      - eval_time: 2m
        alertname: High
        exp_alerts: []
      - eval_time: 3m
        alertname: High
        exp_alerts:
          - exp_labels: {job: api, severity: page}
            exp_annotations: {summary: "api is 6 in eu1"}
    promql_expr_test:
      - expr: doubled
        eval_time: 1m
        exp_samples:
          - labels: 'doubled{job="api"}'
            value: 6
      - expr: ALERTS_FOR_STATE
        eval_time: 3m
        exp_samples:
          - labels: 'ALERTS_FOR_STATE{alertname="High", job="api", severity="page"}'
            value: 60
"""


def test_passing_file(tmp_path: Path) -> None:
    rc, out, err = run(tmp_path, PASSING)
    assert (rc, err) == (0, "")
    assert out == f"Unit Testing:  {tmp_path / 'test.yml'}\n  SUCCESS\n\n"


def test_group_eval_order_decides_what_later_groups_see(tmp_path: Path) -> None:
    reversed_order = PASSING.replace("rule_files:", "group_eval_order: [second, first]\nrule_files:")
    # The alert reads `doubled` before it is recorded at each step, so it goes pending 1m later.
    rc, _, err = run(tmp_path, reversed_order)
    assert rc == 1
    assert "    alertname: High, time: 3m, \n        exp:[\n            0:\n" in err
    assert "        got:[]" in err


def test_failure_messages_are_promtools(tmp_path: Path) -> None:
    failing = PASSING.replace("value: 6\n", "value: 7\n")
    rc, _, err = run(tmp_path, failing)
    assert rc == 1
    assert err == (
        "  FAILED:\n"
        '    expr: "doubled", time: 1m,\n'
        '        exp: {__name__="doubled", job="api"} 7E+00\n'
        '        got: {__name__="doubled", job="api"} 6E+00\n'
    )


def test_unknown_field_and_missing_alertname_fail(tmp_path: Path) -> None:
    rc, _, err = run(tmp_path, "tests:\n  - intervall: 1m\n")
    assert rc == 1
    assert "field intervall not found in type main.testGroup" in err
    rc, _, err = run(tmp_path, "tests:\n  - alert_rule_test:\n      - eval_time: 1m\n")
    assert rc == 1
    assert "misses required attribute alertname at eval_time 1m" in err


def test_rule_evaluation_error_stops_the_group(tmp_path: Path) -> None:
    rules = (
        "groups:\n  - name: g\n    rules:\n      - record: r\n"
        '        expr: \'label_replace(x, "a", "$1", "b", "(")\'\n'
    )
    test = "rule_files: [rules.yml]\ntests:\n  - input_series:\n      - series: x\n        values: 1\n"
    rc, _, err = run(tmp_path, test, rules)
    assert rc == 1
    assert "    rule: r, time: 0s, err: " in err


def test_missing_file_fails(tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    assert run_rule_tests([str(tmp_path / "nope.yml")], out, err) == 1
    assert "no such file" in err.getvalue().lower()


HISTOGRAM_RULES = """
groups:
  - name: h
    rules:
      - record: h:sum
        expr: sum(h)
      - alert: Many
        expr: histogram_count(h:sum) > 5
        annotations:
          summary: "{{ $value }}"
      - alert: Seen
        expr: h
        annotations:
          summary: "{{ $value }}"
"""

HISTOGRAM_TEST = """
rule_files: [rules.yml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'h{job="a"}'
        values: '{{schema:0 count:2 sum:3 buckets:[2]}}+{{count:2 sum:2 buckets:[2]}}x3'
    alert_rule_test:
      - eval_time: 2m
        alertname: Many
        exp_alerts:
          - exp_annotations: {summary: "6"}
      - eval_time: 0m
        alertname: Seen
        exp_alerts:
          - exp_labels: {job: a}
            exp_annotations: {summary: "{count:2, sum:3, (0.5,1]:2}"}
    promql_expr_test:
      - expr: h:sum
        eval_time: 1m
        exp_samples:
          - labels: 'h:sum'
            histogram: '{{count:4 sum:5 counter_reset_hint:not_reset buckets:[4]}}'
      - expr: h
        eval_time: 1m
        exp_samples:
          - labels: 'h{job="a"}'
            histogram: '{{count:5 sum:5 buckets:[4]}}'
"""


def test_native_histograms_in_series_rules_alerts_and_expectations(tmp_path: Path) -> None:
    rc, _, err = run(tmp_path, HISTOGRAM_TEST, HISTOGRAM_RULES)
    assert rc == 1
    # Only the wrong expectation fails, shown as promtool shows histogram samples.
    failures = [line for line in err.splitlines() if line.startswith("    ")]
    assert failures == [
        '    expr: "h", time: 1m,',
        '        exp: {__name__="h", job="a"} {{count:5 sum:5 buckets:[4]}}',
        '        got: {__name__="h", job="a"} {{count:4 sum:5 counter_reset_hint:not_reset buckets:[4]}}',
    ]
