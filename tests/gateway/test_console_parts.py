"""The console's pure parts: a rule's threshold read from its expression, the plot drawn from series,
the label set of the routing page's question."""

from __future__ import annotations

import re

import pytest

from alerting_common.matchers import MatcherError
from gateway.console.plot import Line, Threshold, split_threshold, svg_plot
from gateway.console.routing import parse_labels


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("avg(cpu_usage) > 80", Threshold("avg(cpu_usage)", ">", 80.0)),
        ("up == 0", Threshold("up", "==", 0.0)),
        ('rate(x{a=">"}[5m]) >= 0.5', Threshold('rate(x{a=">"}[5m])', ">=", 0.5)),
        ("sum by (x) (y) < bool -1e3", Threshold("sum by (x) (y)", "<", -1000.0)),
        ('x{a=~"b>"} != 3', Threshold('x{a=~"b>"}', "!=", 3.0)),
        ("(a > 3) > 0x10", Threshold("(a > 3)", ">", 16.0)),
        ("a<=2", Threshold("a", "<=", 2.0)),
        # Not `<expr> <op> <number>` at the top level.
        ("a > 5 and b", None),
        ("a and b > 5", None),
        ("a > b", None),
        ("a > 5 * 2", None),
        ("up", None),
        ('label_replace(up, "x", ">", "", "") ', None),
        ("> 5", None),
    ],
)
def test_threshold_of_an_expression(expr: str, expected: Threshold | None) -> None:
    assert split_threshold(expr) == expected


def test_plot_draws_each_series_and_the_threshold_on_one_scale() -> None:
    start = 1_000_000
    flat = Line({"host": "b"}, [(start + i * 60_000, 20.0) for i in range(11)])
    climbing = Line({"__name__": "cpu", "host": "a"}, [(start + i * 60_000, 40.0 + 6 * i) for i in range(11)])
    drawn = svg_plot([climbing, flat], start, start + 600_000, 60_000, Threshold("cpu", ">", 80.0), "t <x>")
    paths = re.findall(r'<path class="series series-(\d)" fill="none" d="([^"]+)">', drawn)
    assert [n for n, _ in paths] == ["0", "1"]
    ys = [[float(y) for y in re.findall(r"[ML][\d.]+ ([\d.]+)", d)] for _, d in paths]
    [threshold_y] = [float(y) for y in re.findall(r'<line class="threshold" [^>]*y1="([\d.]+)"', drawn)]
    assert len(set(ys[1])) == 1  # flat
    assert ys[0] == sorted(ys[0], reverse=True)  # climbing: y grows downwards
    assert min(ys[0]) < threshold_y < ys[1][0]
    assert "t &lt;x&gt;" in drawn
    assert "cpu{host=&quot;a&quot;}" in drawn


def test_plot_breaks_lines_at_gaps_and_says_when_there_is_no_data() -> None:
    points = [(0, 1.0), (60_000, 2.0), (600_000, 3.0), (660_000, float("nan")), (720_000, 4.0)]
    drawn = svg_plot([Line({}, points)], 0, 720_000, 60_000, None, "t")
    [d] = re.findall(r' d="([^"]+)"', drawn)
    assert [c[0] for c in d.split(" ") if c[0] in "ML"] == ["M", "L", "M", "L"]
    assert "threshold" not in drawn
    assert 'id="plot-empty"' in svg_plot([], 0, 1, 1, None, "t")


@pytest.mark.parametrize(
    ("text", "labels"),
    [
        ('severity="critical", team="db"', {"severity": "critical", "team": "db"}),
        ("{severity=critical, team=db}", {"severity": "critical", "team": "db"}),
        ("severity=critical team=db", {"severity": "critical", "team": "db"}),
        ('note="a, \\"b\\" c"', {"note": 'a, "b" c'}),
        ('empty=""', {"empty": ""}),
    ],
)
def test_label_set_of_the_routes_question(text: str, labels: dict[str, str]) -> None:
    assert parse_labels(text) == labels


@pytest.mark.parametrize("text", ["severity critical", "", "a=b a=c", '1a="b"', 'a="b'])
def test_not_a_label_set(text: str) -> None:
    with pytest.raises(MatcherError):
        parse_labels(text)
