"""Caller-supplied regular expressions match in linear time, wherever they are compiled.

`(a+)+b` against forty `a`s takes a backtracking engine about 2**40 steps; RE2 answers at once.
Each case runs in its own interpreter with a deadline, since a runaway `re` match cannot be
interrupted from inside the process that runs it.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import textwrap

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alerting_common.regexp import RegexpError
from alerting_common.regexp import compile as compile_regexp
from alerting_server.matching import Matcher, MatcherError, parse_matchers
from gateway.alertmanager.matchers import parse_matcher as gateway_parse_matcher

EVIL = "(a+)+b"
VICTIM = "a" * 40
DEADLINE_S = 30

CASES = {
    # Silences, routes and inhibit rules all match with this Matcher.
    "alertmanager matcher": f"""
        from alerting_server.matching import parse_matchers
        [m] = parse_matchers('x=~"{EVIL}"')
        print(m.matches({{"x": "{VICTIM}"}}))
    """,
    "promql selector": f"""
        from alerting_server.query.engine import Engine
        from alerting_server.query.labels import from_mapping
        from alerting_server.query.tsdb import TSDB, Sample
        db = TSDB()
        db.append([Sample(from_mapping({{"__name__": "m", "x": "{VICTIM}"}}), 0, 1.0)])
        print(len(Engine(db).instant('m{{x=~"{EVIL}"}}', 0).series) == 1)
    """,
    "label_replace": f"""
        from alerting_server.query.engine import Engine
        from alerting_server.query.labels import from_mapping
        from alerting_server.query.tsdb import TSDB, Sample
        db = TSDB()
        db.append([Sample(from_mapping({{"__name__": "m", "x": "{VICTIM}"}}), 0, 1.0)])
        [s] = Engine(db).instant('label_replace(m, "y", "hit", "x", "{EVIL}")', 0).series
        print(dict(s.labels).get("y") == "hit")
    """,
    "template match": f"""
        from alerting_server.templating import parse_template
        print(parse_template('{{{{ match "{EVIL}" "{VICTIM}" }}}}').execute(None))
    """,
    "template reReplaceAll": f"""
        from alerting_server.templating import parse_template
        text = '{{{{ reReplaceAll "{EVIL}" "z" "{VICTIM}" }}}}'
        print(parse_template(text).execute(None) == "z")
    """,
    "alertmanager api filter": f"""
        from gateway.alertmanager.matchers import parse_matcher
        print(parse_matcher('x=~"{EVIL}"').matches({{"x": "{VICTIM}"}}))
    """,
}


@pytest.mark.parametrize("code", CASES.values(), ids=CASES.keys())
def test_catastrophic_pattern_answers_at_once(code: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=DEADLINE_S,
        check=True,
    )
    assert done.stdout.strip().lower() == "false"


def test_matcher_is_anchored_as_alertmanager_anchors() -> None:
    # `^(?:` + value + `)$`: the alternation stays inside the anchors.
    m = Matcher("x", "=~", "a|b")
    assert m.matches({"x": "a"})
    assert not m.matches({"x": "ab"})


def test_promql_matcher_dot_matches_newline() -> None:
    # Prometheus compiles `^(?s:` + value + `)$`; Alertmanager leaves `.` without newlines.
    from alerting_server.query.labels import Matcher as PromMatcher
    from alerting_server.query.labels import MatchType

    assert PromMatcher.of(MatchType.REGEX, "x", "a.b").matches("a\nb")
    assert not Matcher("x", "=~", "a.b").matches({"x": "a\nb"})


def test_regexp_errors_are_go_messages() -> None:
    with pytest.raises(RegexpError) as info:
        compile_regexp("a(?=b)")
    assert str(info.value) == "error parsing regexp: invalid or unsupported Perl syntax: `(?=`"
    with pytest.raises(RegexpError, match=r"invalid escape sequence: `\\C`"):
        compile_regexp(r"a\C")  # RE2 has \C (any byte); Go does not


def test_replace_all_follows_go() -> None:
    # Go: regexp.MustCompile("a*").ReplaceAllString("baaac", "X") == "XbXcX"
    assert compile_regexp("a*").replace_all("baaac", "X") == "XbXcX"
    assert compile_regexp("(?P<n>é)").replace_all("aéb", "[${n}$1$$$9]") == "a[éé$]b"


_FUZZ = settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
_META = st.sampled_from(list("()[]{}|*+?.^$\\-:=~!,\"' \nabz09PpQECx<>"))
_PATTERNS = st.one_of(st.text(max_size=40), st.lists(_META, max_size=40).map("".join))


@_FUZZ
@given(_PATTERNS)
def test_any_regex_compiles_or_fails_cleanly(pattern: str) -> None:
    try:
        m = Matcher("x", "=~", pattern)
    except MatcherError:
        return
    assert isinstance(m.matches({"x": pattern}), bool)


@_FUZZ
@given(_PATTERNS)
def test_any_matcher_text_parses_or_fails_cleanly(text: str) -> None:
    for parse in (parse_matchers, gateway_parse_matcher):
        with contextlib.suppress(ValueError):
            parse(text)
