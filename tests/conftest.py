"""Fixtures and checks of the whole run."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator, Iterator

import pytest

from tests.notify.receiver import Receiver


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = await Receiver().start()
    yield r
    await r.close()


@pytest.fixture(scope="session", autouse=True)
def _leaves_nothing_in_the_temp_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The run has a temp folder of its own (the servers it starts inherit it), so that what other runs
    on the machine do meanwhile does not count: the server's private socket folders, named so in
    app.py, must all be gone at the end."""
    # pytest's own folder stays in the system temp folder.
    tmp_path_factory.getbasetemp()
    temp = tmp_path_factory.mktemp("temp")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TMPDIR", str(temp))
        patch.setattr(tempfile, "tempdir", str(temp))
        yield
    left = sorted(entry.name for entry in temp.glob("alerting-*"))
    assert not left, f"the tests left these in the temp folder: {', '.join(left)}"
