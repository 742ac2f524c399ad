"""Checks that hold for the whole run."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


def _project_temp_entries() -> set[str]:
    # The server's private socket folder is named so (app.py). The folder is shared with other runs
    # on the machine: only what appeared during this one counts.
    return {entry.name for entry in Path(tempfile.gettempdir()).glob("alerting-*")}


@pytest.fixture(scope="session", autouse=True)
def _leaves_nothing_in_the_temp_folder() -> Iterator[None]:
    before = _project_temp_entries()
    yield
    left = sorted(_project_temp_entries() - before)
    assert not left, f"the tests left these in {tempfile.gettempdir()}: {', '.join(left)}"
