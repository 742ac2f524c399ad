"""render_alert_template: what Prometheus puts into an alert's labels and annotations."""

from __future__ import annotations

from dataclasses import dataclass

from alerting_server.templating import render_alert_template


@dataclass
class _Sample:
    Labels: dict[str, str]
    Value: float


def render(text: str, value: float = 85.5, **labels: str) -> str:
    return render_alert_template(text, "high_cpu", labels, value, {"cluster": "eu1"}, "http://prom:9090/p")


def test_value_and_labels() -> None:
    got = render("CPU usage is {{ $value }}% on {{ $labels.host }}", host="server01")
    assert got == "CPU usage is 85.5% on server01"


def test_missing_label_is_empty_and_missing_field_is_an_error() -> None:
    assert render("[{{ $labels.nope }}]") == "[]"
    assert render("{{ .Nope }}").startswith(
        "<error expanding template: error executing template __alert_high_cpu: "
    )


def test_external_labels_url_and_dot() -> None:
    got = render(
        "{{ $externalLabels.cluster }} {{ $externalURL }} {{ .Value }} {{ .Labels.host }} {{ pathPrefix }}",
        host="h",
    )
    assert got == "eu1 http://prom:9090/p 85.5 h /p"


def test_value_formatting() -> None:
    assert render("{{ $value }}", 1e6) == "1e+06"
    assert render("{{ $value }}", float("inf")) == "+Inf"
    assert render("{{ $value | humanize }}", 1234567) == "1.235M"
    assert render('{{ printf "%.2f" $value }}', 3.14159) == "3.14"
    assert render("{{ humanizePercentage $value }}", 0.1234) == "12.34%"


def test_comparing_value_with_an_int_literal_fails_as_in_go() -> None:
    # Prometheus users meet this one: $value is a float64, 80 an int.
    got = render("{{ if gt $value 80 }}hot{{ end }}")
    assert got == (
        "<error expanding template: error executing template __alert_high_cpu: "
        "template: __alert_high_cpu:1:118: "
        'executing "__alert_high_cpu" at <gt $value 80>: error calling gt: incompatible types for comparison>'
    )
    assert render("{{ if gt $value 80.0 }}hot{{ end }}") == "hot"


def test_parse_error_is_rendered_not_raised() -> None:
    assert render("{{ foo }}") == (
        "<error expanding template: error parsing template __alert_high_cpu: "
        'template: __alert_high_cpu:1: function "foo" not defined>'
    )


def test_query_function() -> None:
    def query(q: str) -> list[_Sample]:
        assert q == 'up{job="node"}'
        return [_Sample({"instance": "b"}, 0), _Sample({"instance": "a"}, 1)]

    got = render_alert_template(
        '{{ range query "up{job=\\"node\\"}" | sortByLabel "instance" }}'
        "{{ .Labels.instance }}={{ .Value }} {{ end }}",
        "r",
        {},
        0.0,
        {},
        query=query,
    )
    assert got == "a=1 b=0 "


def test_now_uses_the_evaluation_time() -> None:
    got = render_alert_template(
        "{{ now }} {{ now | humanizeTimestamp }}", "r", {}, 0.0, {}, now_ms=1_696_789_234_500
    )
    assert got == "1.6967892345e+09 2023-10-08 18:20:34.5 +0000 UTC"
    # Seconds * 1e9 in float64 lands just below .567, and Prometheus truncates to milliseconds.
    got = render_alert_template("{{ now | humanizeTimestamp }}", "r", {}, 0.0, {}, now_ms=1_696_789_234_567)
    assert got == "2023-10-08 18:20:34.566 +0000 UTC"
