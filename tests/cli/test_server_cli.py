from __future__ import annotations

from pathlib import Path

import pytest

from alerting_server.cli import main

PASSING = """
load 1m
  m{a="1"} 0+10x10

eval instant at 5m m
  m{a="1"} 50
"""
FAILING = PASSING.replace(" 50\n", " 51\n")


def test_promql_test_exit_codes_and_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good, bad = tmp_path / "good.test", tmp_path / "bad.test"
    good.write_text(PASSING)
    bad.write_text(FAILING)
    assert main(["promql-test", str(good)]) == 0
    assert "passed 1, failed 0" in capsys.readouterr().out
    assert main(["promql-test", str(good), str(bad)]) == 1
    out = capsys.readouterr().out
    assert "FAIL bad.test:5" in out
    known = tmp_path / "known.txt"
    known.write_text("bad.test:5 expected to fail in this test\n")
    assert main(["promql-test", "--known-failures", str(known), str(bad)]) == 0


def test_serve_rejects_a_bad_config_with_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("nonsense: true\n")
    assert main(["serve", "--config", str(cfg)]) == 2
    assert "nonsense" in capsys.readouterr().err


def test_serve_rejects_a_bad_rules_flag_with_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--rules-min-interval", "0s"]) == 2
    assert "rules.min_interval" in capsys.readouterr().err


def test_test_rules_runs_promtool_files(capsys: pytest.CaptureFixture[str]) -> None:
    conformance = Path(__file__).resolve().parents[3] / "shared" / "conformance" / "rules"
    assert main(["test-rules", str(conformance / "long-period.yml")]) == 0
    assert "SUCCESS" in capsys.readouterr().out
    assert main(["test-rules", str(conformance / "failing.yml")]) == 1
    # As promtool: failures on stderr.
    assert "FAILED" in capsys.readouterr().err
