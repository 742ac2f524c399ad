from __future__ import annotations

import pytest

import alerting
import alerting.client


def test_the_package_re_exports_the_clients() -> None:
    assert alerting.AlertingClient is alerting.client.AlertingClient
    assert alerting.AsyncAlertingClient is alerting.client.AsyncAlertingClient
    assert alerting.TLSConfig is alerting.client.TLSConfig
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        getattr(alerting, "Nope")  # noqa: B009
