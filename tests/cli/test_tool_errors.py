"""Bad input to a command-line tool is one line on stderr and a non-zero exit, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from alerting.cli import main as alertctl
from alerting_server.cli import main

NOT_UTF8 = b"\xff\xfe\x00binary"


def one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "Traceback" not in captured.err
    [line] = captured.err.splitlines()
    return line


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, "No such file or directory"),
        (b"groups:\n  - name: x\n", "line 1: invalid command 'groups:'"),
        (b"", "no eval command: not a PromQL test file"),
        (b"load 1m\n  m 1\n", "no eval command: not a PromQL test file"),
        (NOT_UTF8, "not a text file"),
    ],
)
def test_promql_test_of_an_unusable_file_runs_nothing_and_says_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes | None, reason: str
) -> None:
    good = tmp_path / "good.test"
    good.write_text("load 1m\n  m 1\n\neval instant at 0 m\n  m 1\n")
    path = tmp_path / "missing.test"
    if content is not None:
        path.write_bytes(content)
    assert main(["promql-test", str(good), str(path)]) == 2
    assert one_error_line(capsys) == f"alerting-server promql-test: {path}: {reason}"


def test_promql_test_with_a_missing_known_failures_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "known.txt"
    assert main(["promql-test", "--known-failures", str(missing), str(tmp_path / "x.test")]) == 1
    assert one_error_line(capsys) == f"alerting-server promql-test: {missing}: No such file or directory"


def test_test_rules_of_a_binary_or_malformed_file_says_why_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    binary, malformed = tmp_path / "binary.yml", tmp_path / "malformed.yml"
    binary.write_bytes(NOT_UTF8)
    malformed.write_text("rule_files: [\n")
    assert main(["test-rules", str(binary)]) == 1
    assert f"read {binary}: not a text file" in capsys.readouterr().err
    assert main(["test-rules", str(malformed)]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    # promtool's layout: the file's FAILED header, then the error in one line.
    assert err.splitlines() == [
        "  FAILED:",
        "yaml: line 2, column 1: while parsing a flow node; did not find expected node content",
    ]


def test_serve_with_a_config_file_that_is_not_yaml(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "alerting.yaml"
    path.write_text("grpc_listen: [\n")
    assert main(["serve", "--config", str(path)]) == 2
    assert one_error_line(capsys).startswith(f"alerting-server: config file {path} is not valid YAML: line 2")


@pytest.mark.parametrize("url", ["not a url", "mysql://root:hunter2@db/alerting"])
def test_serve_with_a_database_url_it_cannot_use(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--database-url", url]) == 2
    line = one_error_line(capsys)
    assert line.startswith("alerting-server: database_url: ")
    assert "hunter2" not in line


def test_serve_names_the_unreachable_database_without_its_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "serve",
            "--database-url",
            "postgresql://alerting:hunter2@127.0.0.1:1/alerting",
            "--grpc-listen",
            "127.0.0.1:0",
            "--http-listen",
            "127.0.0.1:0",
            "--data-dir",
            str(tmp_path),
        ]
    )
    assert code == 1
    line = one_error_line(capsys)
    assert line.startswith("alerting-server: database postgresql://alerting:***@127.0.0.1:1/alerting: ")
    assert "hunter2" not in line


def test_alertctl_with_a_missing_or_malformed_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing, malformed = tmp_path / "missing.yaml", tmp_path / "rule.yaml"
    malformed.write_text("name: [\n")
    server = ["--server", "127.0.0.1:1"]
    assert alertctl([*server, "rules", "create", "-f", str(missing)]) == 1
    assert one_error_line(capsys) == f"error: {missing}: No such file or directory"
    assert alertctl([*server, "rules", "create", "-f", str(malformed)]) == 1
    assert one_error_line(capsys).startswith("error: not valid YAML: line 2, column 1: ")


def test_alertctl_with_an_unreachable_server(capsys: pytest.CaptureFixture[str]) -> None:
    assert alertctl(["--server", "127.0.0.1:1", "--timeout", "2", "rules", "list"]) == 1
    line = one_error_line(capsys)
    assert line.startswith("error: UNAVAILABLE: ")
    assert "127.0.0.1:1" in line
