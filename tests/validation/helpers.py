from __future__ import annotations

from collections.abc import Callable

import pytest

from alerting_server.errors import InvalidArgument, Violations


def violations_of(call: Callable[[], object]) -> dict[str, str]:
    """field -> description of every violation `call` raises (it must raise)."""
    with pytest.raises(InvalidArgument) as info:
        call()
    fields = [v.field for v in info.value.violations]
    assert len(fields) == len(set(fields)), f"a field is reported twice: {fields}"
    return {v.field: v.description for v in info.value.violations}


def collected(check: Callable[[Violations], object]) -> dict[str, str]:
    """field -> description of what a `check_*(v, ...)` helper recorded."""
    v = Violations()
    check(v)
    return {item.field: item.description for item in v.items}
