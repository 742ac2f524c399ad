"""What an acknowledgement must carry."""

from __future__ import annotations

import pytest

from alerting_server.ack import validate_ack
from alerting_server.errors import InvalidArgument


def test_an_acknowledgement_needs_someone_and_bounded_text() -> None:
    validate_ack("alice", "looking")
    with pytest.raises(InvalidArgument) as missing:
        validate_ack("  ", "")
    assert [v.field for v in missing.value.violations] == ["by"]
    validate_ack("", by_required=False)
    with pytest.raises(InvalidArgument) as long:
        validate_ack("a" * 256, "c" * 70_000)
    assert [v.field for v in long.value.violations] == ["by", "comment"]
