from __future__ import annotations

from alerting_server.errors import Violations
from alerting_server.validation.matchers import check_matchers
from alerting_server.validation.templates import check_rule_templates, check_template
from tests.validation.helpers import collected


def test_rule_templates_know_prometheus_variables() -> None:
    templates = {
        "summary": "{{ $labels.host }} at {{ $value | humanize }}",
        "url": "{{ $externalURL }}/alerts?{{ $externalLabels.cluster }}",
    }
    assert collected(lambda v: check_rule_templates(v, "annotations", templates, "HighCPU")) == {}


def test_rule_template_errors_read_like_promtool() -> None:
    found = collected(
        lambda v: check_rule_templates(
            v, "annotations", {"a": "ok", "b": "{{ nosuch }}", "c": "line one\n{{ .Foo "}, "HighCPU"
        )
    )
    assert found == {
        "annotations.b": 'template: __alert_HighCPU:1: function "nosuch" not defined',
        "annotations.c": "template: __alert_HighCPU:2: unclosed action",
    }


def test_plain_template_has_no_rule_variables_and_is_named_after_its_key() -> None:
    found = collected(lambda v: check_template(v, "config.severity", "{{ $value }}"))
    assert found == {"config.severity": 'template: severity:1: undefined variable "$value"'}


def test_template_functions_can_be_restricted() -> None:
    assert collected(lambda v: check_template(v, "t", "{{ humanize 1 }}")) == {}
    found = collected(lambda v: check_template(v, "t", "{{ humanize 1 }}", funcs=()))
    assert found == {"t": 'template: t:1: function "humanize" not defined'}


def test_check_matchers_returns_the_good_ones_and_names_the_bad() -> None:
    def check(v: Violations) -> None:
        parsed = check_matchers(v, "matchers", ['a="1"', "b", 'c=~"x|y"', "x" * 5000])
        assert [str(m) for m in parsed] == ['a="1"', 'c=~"x|y"']

    found = collected(check)
    assert found == {"matchers[1]": "bad matcher format: b", "matchers[3]": "must be at most 4096 characters"}
