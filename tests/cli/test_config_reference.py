"""The settings reference is made from the code, covers every setting, and README.md shows it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from alerting_server import config
from alerting_server.cli import config_reference, main

ROOT = Path(__file__).resolve().parents[2]


def test_every_setting_has_a_meaning_and_is_a_key_the_file_takes() -> None:
    found = config.settings()
    assert all(s.meaning for s in found), [s.key for s in found if not s.meaning]
    assert {s.key.split(".")[0] for s in found} == config._KNOWN_KEYS
    assert set(config._ENV.values()) <= {s.key for s in found}


def test_the_documented_defaults_written_in_a_file_are_the_defaults() -> None:
    written = {s.key: yaml.safe_load(s.default) for s in config.settings() if s.default}
    assert config.from_mapping(config._nested(written)) == config.Config()


def test_the_command_prints_every_flag_and_key(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config-reference"]) == 0
    table = capsys.readouterr().out
    assert table == config_reference() + "\n"
    for s in config.settings():
        assert f"`{s.key}`" in table
    for flag in ("--config", "--log-level", "--data-dir", "--database-url"):
        assert f"| `{flag}` |" in table


def test_the_readme_shows_the_current_table() -> None:
    check = subprocess.run(
        [sys.executable, "scripts/settings_table.py", "--check"], cwd=ROOT, capture_output=True, text=True
    )
    assert check.returncode == 0, check.stderr
    assert config_reference() in (ROOT / "README.md").read_text()
