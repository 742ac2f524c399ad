from __future__ import annotations

from typing import Any

import httpx
import pytest

from alerting.v1 import channel_service_pb2
from alerting_server.api.convert import CHANNEL_TYPE_FROM_PB
from alerting_server.model import ChannelType
from alerting_server.notify.integrations import DEFAULT_LIMITS, INTEGRATIONS, integration
from alerting_server.notify.integrations.email import EmailConfig
from alerting_server.notify.integrations.pagerduty import PagerDutyConfig
from alerting_server.notify.integrations.pagerduty.config import DEFAULT_URL
from alerting_server.notify.integrations.slack import SlackConfig
from alerting_server.notify.integrations.webhook import WebhookConfig
from alerting_server.validation.fields import Kind
from tests.validation.test_channels import GOOD


def test_every_channel_type_has_one_integration_and_one_proto_value() -> None:
    assert set(INTEGRATIONS) == set(ChannelType) == set(DEFAULT_LIMITS)
    assert all(integration(t).type is t for t in ChannelType)
    proto = set(channel_service_pb2.ChannelType.values()) - {channel_service_pb2.CHANNEL_TYPE_UNSPECIFIED}
    assert set(CHANNEL_TYPE_FROM_PB) == proto


@pytest.mark.parametrize("type", list(ChannelType))
def test_destination_and_templates_are_fields_of_the_config(type: ChannelType) -> None:
    spec = integration(type)
    assert spec.schema[spec.destination].kind in (Kind.URL, Kind.HOSTPORT)
    for name in spec.templates:
        # PagerDuty's severity is a template only when it holds one.
        assert spec.schema[name].kind is Kind.TEMPLATE or name == "severity"


@pytest.mark.parametrize("type", list(ChannelType))
def test_a_valid_config_parses_into_the_typed_config(type: ChannelType) -> None:
    spec = integration(type)
    assert isinstance(spec.config.parse(GOOD[type]), spec.config)


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (
            {"url": "http://h/x", "max_alerts": 3.0, "timeout": "2s", "headers": {"X-A": "b"}},
            WebhookConfig(url="http://h/x", headers={"X-A": "b"}, max_alerts=3, timeout=httpx.Timeout(2.0)),
        ),
        ({"url": "http://h/x", "timeout": None}, WebhookConfig(url="http://h/x")),
        (
            {"webhook_url": "https://s/x", "channel": "#ops"},
            SlackConfig(webhook_url="https://s/x", channel="#ops"),
        ),
        ({"routing_key": "k"}, PagerDutyConfig(routing_key="k", url=DEFAULT_URL, severity="error")),
        (
            {"to": ["a@x.org"], "from": "b@x.org", "smarthost": "[::1]:465", "tls": True},
            EmailConfig(sender="b@x.org", to=("a@x.org",), host="::1", port=465, tls=True),
        ),
    ],
)
def test_typed_configs_fill_in_defaults(
    config: dict[str, Any], expected: WebhookConfig | SlackConfig | PagerDutyConfig | EmailConfig
) -> None:
    assert type(expected).parse(config) == expected
