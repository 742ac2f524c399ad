"""Input validation of every API resource: bad input becomes InvalidArgument naming each field.

resources   validate_rule, validate_channel, validate_silence, validate_route, ...
channels    channel configs against their integration's fields, secret redaction and merging
fields      the kinds of field channel configs are made of
promql      check_query -> query.analysis.Analysis (value type, metrics read)
names       label, metric, rule and resource names
durations   durations in ms and as Prometheus strings
templates   label and annotation templates
matchers    lists of matcher strings
"""

from alerting_server.validation.channels import (
    check_channel_config,
    merge_secrets,
    redact,
    secret_fields,
)
from alerting_server.validation.fields import SECRET_PLACEHOLDER
from alerting_server.validation.promql import check_query
from alerting_server.validation.resources import (
    validate_channel,
    validate_escalation_policy,
    validate_inhibit_rule,
    validate_route,
    validate_rule,
    validate_silence,
)

__all__ = [
    "SECRET_PLACEHOLDER",
    "check_channel_config",
    "check_query",
    "merge_secrets",
    "redact",
    "secret_fields",
    "validate_channel",
    "validate_escalation_policy",
    "validate_inhibit_rule",
    "validate_route",
    "validate_rule",
    "validate_silence",
]
