"""`alertctl config check` agrees with `amtool check-config` (Alertmanager 0.25 from Debian) on
Alertmanager's own configuration test files: same verdict, same exit code, and where both refuse a
file, both name the same thing. Where they differ, the reason is asserted too: fields newer than
amtool 0.25 (which it refuses as unknown)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.peers import peer_binary
from tests.integration.server import ServerProcess

DATA = Path("/work/shared/conformance/alertmanager")
FILES = sorted(str(p.relative_to(DATA)) for d in ("config", "examples") for p in (DATA / d).glob("*.yml"))

# Files amtool 0.25 refuses for a field Alertmanager added later, which we accept: the field it names.
NEWER_THAN_AMTOOL = {
    "config/conf.slack-default-app-token.yml": "field slack_app_token not found",
    "config/conf.smtp-password-global-and-local.yml": "field smtp_auth_secret_file not found",
    "examples/route_labels.yml": "field labels not found",
    "examples/simple.yml": "field tracing not found",
}
# What both outputs name when both refuse (amtool 0.25 refuses some for a field it lacks instead).
SAME_THING = {
    "config/conf.nil-match_re-route.yml": '"invalid_label"',
    "config/conf.nil-source_match_re-inhibition.yml": '"invalid_source_label"',
    "config/conf.nil-target_match_re-inhibition.yml": '"invalid_target_label"',
    "config/conf.slack-both-file-and-url.yml": "at most one of slack_api_url & slack_api_url_file",
    "config/conf.smtp-both-password-and-file.yml": (
        "at most one of smtp_auth_password & smtp_auth_password_file"
    ),
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    workdir = tmp_path_factory.mktemp("server")
    proc = ServerProcess(f"sqlite+aiosqlite:///{workdir / 'alerting.db'}", workdir)
    proc.start()
    yield proc
    proc.kill()


def _run(args: list[str]) -> tuple[int, str]:
    done = subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)
    return done.returncode, done.stdout + done.stderr


@pytest.mark.parametrize("name", FILES)
def test_alertctl_agrees_with_amtool(server: ServerProcess, name: str) -> None:
    path = str(DATA / name)
    amtool_code, amtool_out = _run([str(peer_binary("amtool")), "check-config", path])
    ours_code, ours_out = _run(
        [sys.executable, "-m", "alerting.cli", "--server", server.grpc_target, "config", "check", path]
    )
    assert ours_out.startswith(f"Checking '{path}'  "), ours_out
    if name in NEWER_THAN_AMTOOL:
        assert amtool_code == 1
        assert NEWER_THAN_AMTOOL[name] in amtool_out
        assert ours_code == 0, ours_out
        return
    assert ours_code == amtool_code, f"amtool:\n{amtool_out}\nalertctl:\n{ours_out}"
    if ours_code == 0:
        # The same counts as amtool's summary.
        for line in amtool_out.splitlines():
            if line.startswith(" - ") and line[3].isdigit():
                assert line in ours_out.splitlines()
        assert "SUCCESS" in ours_out
    else:
        assert "FAILED" in ours_out
        assert ours_out.rstrip().endswith("failed to validate 1 file(s)")
        if name in SAME_THING:
            assert SAME_THING[name] in amtool_out
            assert SAME_THING[name] in ours_out
