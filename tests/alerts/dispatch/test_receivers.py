"""A receiver with no integration routes nowhere, quietly; one that names no channel is reported."""

from __future__ import annotations

import logging

import pytest
from prometheus_client import REGISTRY

from alerting_server.alerts.dispatch.receivers import Receivers
from alerting_server.model import Channel, ChannelType

HOOK = Channel("hook", ChannelType.WEBHOOK, {"url": "http://x"}, id="c1")


def _dropped(receiver: str) -> float:
    labels = {"receiver": receiver, "outcome": "dropped"}
    return REGISTRY.get_sample_value("alerting_notifications_unroutable_total", labels) or 0.0


def test_empty_receiver_is_neither_counted_nor_logged(caplog: pytest.LogCaptureFixture) -> None:
    receivers = Receivers([HOOK], empty={"blackhole"})
    before = _dropped("blackhole")
    with caplog.at_level(logging.WARNING):
        assert receivers.resolve("blackhole", "route {}") == []
    assert receivers.channels("blackhole") == []
    assert _dropped("blackhole") == before
    assert caplog.records == []


def test_a_receiver_that_names_nothing_is_still_reported(caplog: pytest.LogCaptureFixture) -> None:
    receivers = Receivers([HOOK], empty={"blackhole"})
    before = _dropped("gone-rcv")
    with caplog.at_level(logging.WARNING):
        assert receivers.resolve("gone-rcv", "route {}") == []
    assert _dropped("gone-rcv") == before + 1
    assert "'gone-rcv'" in caplog.text
    # A name that is a channel as well as an empty receiver is the channel's.
    assert Receivers([HOOK], empty={"hook"}).channels("hook") == [HOOK]


def test_with_a_fallback_only_what_names_nothing_falls_back() -> None:
    spare = Channel("spare", ChannelType.WEBHOOK, {"url": "http://y"}, id="c2")
    receivers = Receivers([HOOK, spare], fallback="spare", empty={"blackhole"})
    assert receivers.resolve("blackhole", "route {}") == []
    assert receivers.resolve("gone", "route {}") == [spare]
    assert receivers.channels("gone") is None
