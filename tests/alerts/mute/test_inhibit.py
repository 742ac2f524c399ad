"""Ported from Alertmanager inhibit/inhibit_test.go, plus the equal-label edge cases."""

from __future__ import annotations

import dataclasses

import pytest

from alerting_server.alerts import Inhibitor
from alerting_server.model import Alert, AlertState, InhibitRule
from tests.alerts.helpers import firing, resolved

NOW = 1_700_000_000_000
MIN = 60_000


def active(labels: dict[str, str]) -> Alert:
    return firing(labels, NOW - MIN)


def ended(labels: dict[str, str]) -> Alert:
    return resolved(firing(labels, NOW - MIN), NOW - 1000)


@pytest.mark.parametrize(
    ("sources", "equal", "target", "inhibited"),
    [
        # TestInhibitRuleHasEqual: no source alerts at all.
        ([], (), {"a": "b"}, False),
        # No equal labels: any source alert satisfies the requirement.
        ([active({"x": "y"})], (), {"a": "b"}, True),
        # Matching but already resolved.
        ([ended({"a": "b", "b": "f"}), ended({"a": "b", "b": "c"})], ("a", "b"), {"a": "b", "b": "c"}, False),
        # Matching and unresolved.
        ([ended({"a": "b", "c": "d"}), active({"a": "b", "c": "f"})], ("a",), {"a": "b"}, True),
        # Equal label does not match.
        ([ended({"a": "c", "c": "d"}), ended({"a": "c", "c": "f"})], ("a",), {"a": "b"}, False),
        ([active({"a": "c"})], ("a",), {"a": "b"}, False),
        # A label missing on both sides is equal; missing on one side equals empty on the other.
        ([active({"x": "1"})], ("cluster",), {"a": "b"}, True),
        ([active({"x": "1", "cluster": ""})], ("cluster",), {"a": "b"}, True),
        ([active({"x": "1"})], ("cluster",), {"a": "b", "cluster": ""}, True),
        ([active({"x": "1"})], ("cluster",), {"a": "b", "cluster": "eu"}, False),
        ([active({"x": "1", "cluster": "eu"})], ("cluster",), {"a": "b"}, False),
    ],
)
def test_has_equal(
    sources: list[Alert], equal: tuple[str, ...], target: dict[str, str], inhibited: bool
) -> None:
    # As hasEqual is tested in Alertmanager: every source counts, the target side plays no part.
    ih = Inhibitor([InhibitRule(source_matchers=('src="1"',), target_matchers=('src=""',), equal=equal)])
    ih.update([_as_source(a) for a in sources], NOW)
    assert bool(ih.inhibited_by(target)) is inhibited


def _as_source(alert: Alert) -> Alert:
    return dataclasses.replace(alert, labels={**alert.labels, "src": "1"})


SOURCE_1 = active({"s1": "1", "t1": "2", "e": "1"})  # matches rule 1's source side only
SOURCE_2 = active({"s2": "1", "t2": "1", "e": "1"})  # matches both sides of rule 2


def two_rules(target_1: str) -> Inhibitor:
    ih = Inhibitor(
        [
            InhibitRule(source_matchers=('s1="1"',), target_matchers=(target_1,), equal=("e",)),
            InhibitRule(source_matchers=('s2="1"',), target_matchers=('t2="1"',), equal=("e",)),
        ]
    )
    ih.update([SOURCE_1, SOURCE_2], NOW)
    return ih


@pytest.mark.parametrize(
    ("target", "inhibited"),
    [
        ({"t1": "1", "e": "1"}, True),
        ({"t2": "1", "e": "1"}, True),
        ({"t1": "1", "t3": "1", "e": "1"}, True),
        ({"t1": "1", "t2": "1", "e": "1"}, True),
        ({"t1": "0", "e": "1"}, False),
        # Both sides of rule 1, inhibited: SOURCE_1 matches only the source side.
        ({"s1": "1", "t1": "1", "e": "1"}, True),
        # Both sides of rule 2, not inhibited: SOURCE_2 matches both sides too.
        ({"s2": "1", "t2": "1", "e": "1"}, False),
        ({"t1": "1", "e": "0"}, False),
    ],
)
def test_inhibit_rule_matches(target: dict[str, str], inhibited: bool) -> None:
    """TestInhibitRuleMatches."""
    assert bool(two_rules('t1="1"').inhibited_by(target)) is inhibited


@pytest.mark.parametrize(
    ("target", "inhibited"),
    [
        ({"t1": "1", "e": "1"}, False),
        ({"t2": "1", "e": "1"}, True),
        ({"t1": "1", "t3": "1", "e": "1"}, False),
        ({"t1": "1", "t2": "1", "e": "1"}, True),
        ({"t1": "0", "e": "1"}, True),
        ({"s1": "1", "t1": "1", "e": "1"}, False),
        # SOURCE_2 matches both sides, yet this target matches rule 1 (t1!="1") from SOURCE_1.
        ({"s2": "1", "t2": "1", "e": "1"}, True),
        ({"t1": "1", "e": "0"}, False),
    ],
)
def test_inhibit_rule_matchers(target: dict[str, str], inhibited: bool) -> None:
    """TestInhibitRuleMatchers: a `!=` target matcher."""
    assert bool(two_rules('t1!="1"').inhibited_by(target)) is inhibited


RULE = InhibitRule(source_matchers=('s="1"',), target_matchers=('t="1"',), equal=("e",))
ONE = {"t": "1", "e": "f"}
TWO = {"s": "1", "e": "f"}


@pytest.mark.parametrize(
    ("alerts", "muted"),
    [
        ([active(ONE)], {"one": False}),
        ([active(ONE), active(TWO)], {"one": True, "two": False}),
        # The last version of alert two is resolved: it no longer inhibits.
        ([active(ONE), active(TWO), ended(TWO)], {"one": False, "two": False}),
    ],
)
def test_inhibit(alerts: list[Alert], muted: dict[str, bool]) -> None:
    """TestInhibit."""
    ih = Inhibitor([RULE])
    ih.update(alerts, NOW)
    labels = {"one": ONE, "two": TWO}
    assert {name: bool(ih.inhibited_by(labels[name])) for name in muted} == muted


def test_reports_fingerprints_once_and_resolution_by_time() -> None:
    source = active(TWO)
    rules = [RULE, InhibitRule(source_matchers=('s="1"',), target_matchers=('e="f"',))]
    ih = Inhibitor(rules)
    ih.update([source], NOW)
    assert ih.inhibited_by(ONE) == [source.fingerprint]
    # An external alert whose end time has passed is resolved even while its state says firing.
    ending = Alert(source.fingerprint, source.labels, AlertState.FIRING, started_at=0, resolved_at=NOW)
    ih.update([ending], NOW - 1)
    assert ih.muted_by(firing(ONE), NOW - 1) == [source.fingerprint]
    ih.update([ending], NOW)
    assert ih.inhibited_by(ONE) == []


def test_pending_alerts_do_not_inhibit() -> None:
    ih = Inhibitor([RULE])
    ih.update([Alert("p", TWO, AlertState.PENDING, started_at=NOW)], NOW)
    assert ih.inhibited_by(ONE) == []
