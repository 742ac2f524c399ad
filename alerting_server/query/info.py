"""The experimental `info(v [, {data label selector}])` function (promql/info.go): each series of `v`
gets the data labels of the info series (`target_info` by default) sharing its `instance` and `job`.

Prometheus lets the label selector of its second argument match the empty string
(`info(x, {data=~".*"})`), which promql-parser refuses for a selector; `marked` gives that selector a
matcher of its own before parsing, which the evaluation leaves out.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np
import promql_parser as pp

from alerting_server.query.ast import AtTime, at_of, children, duration_ms, selector_matchers, unwrap_parens
from alerting_server.query.errors import QueryError
from alerting_server.query.labels import METRIC_NAME, Labels, Matcher, MatchType, format_labels, get
from alerting_server.query.steps import Steps, StepSeries, Vector
from alerting_server.query.storage import stale_mask
from alerting_server.query.syntax_lexer import T, lex

if TYPE_CHECKING:
    from alerting_server.query.evaluator import Evaluator

# The matcher given to info()'s label selector so that promql-parser takes it.
MARK = "__info_selector__"
_MARK_TEXT = f'{MARK}="1"'
TARGET_INFO = "target_info"
IDENTIFYING = ("instance", "job")


@functools.lru_cache(maxsize=4096)
def marked(query: str) -> str:
    """`query` with MARK added to the label selector of each info() call's second argument."""
    if "info" not in query:
        return query
    tokens = lex(query)
    inserts: list[int] = []
    for i, tok in enumerate(tokens[:-2]):
        if not (tok.typ is T.IDENTIFIER and tok.val == "info" and tokens[i + 1].typ is T.LEFT_PAREN):
            continue
        depth = 0
        for j in range(i + 1, len(tokens) - 1):
            typ = tokens[j].typ
            if typ in (T.LEFT_PAREN, T.LEFT_BRACKET, T.LEFT_BRACE):
                depth += 1
            elif typ in (T.RIGHT_PAREN, T.RIGHT_BRACKET, T.RIGHT_BRACE):
                depth -= 1
                if depth == 0:
                    break
            elif typ is T.COMMA and depth == 1:
                if tokens[j + 1].typ is T.LEFT_BRACE:
                    inserts.append(tokens[j + 1].pos + 1)
                break
    if not inserts:
        return query
    out = []
    at = 0
    for pos in inserts:
        empty = query[pos:].lstrip().startswith("}")
        out.append(query[at:pos])
        out.append(_MARK_TEXT if empty else _MARK_TEXT + ", ")
        at = pos
    out.append(query[at:])
    return "".join(out)


def label_selector(node: pp.Expr) -> pp.VectorSelector:
    """info()'s second argument, which must be a label selector (parse.go checkAST)."""
    arg = unwrap_parens(node)
    if not isinstance(arg, pp.VectorSelector):
        raise QueryError("expected label selectors only")
    if arg.name is not None:
        raise QueryError("expected label selectors only, got vector selector instead")
    return arg


def _walk(node: pp.Expr, path: list[pp.Expr]) -> Iterator[tuple[pp.Expr, list[pp.Expr]]]:
    yield node, path
    for child in children(node):
        yield from _walk(child, [*path, node])


def _reference(expr: pp.Expr) -> tuple[AtTime | None, int]:
    """info.go infoSelectTimestampAndOffset: the @ time and offset of the first selector, the
    offsets of the subqueries around it added up to the first of them with an @."""
    for node, path in _walk(expr, []):
        if isinstance(node, pp.MatrixSelector):
            node = node.vector_selector
        if not isinstance(node, pp.VectorSelector):
            continue
        at, offset = at_of(node), duration_ms(node.offset)
        for outer in reversed(path):
            if at is not None:
                break
            if isinstance(outer, pp.SubqueryExpr):
                offset += duration_ms(outer.offset)
                at = at_of(outer)
        return at, offset
    return None, 0


def _effective_names(matchers: list[Matcher]) -> list[Matcher]:
    """info.go effectiveInfoNameMatchers."""
    if any(m.type in (MatchType.EQUAL, MatchType.REGEX) for m in matchers):
        return matchers
    if matchers:
        return [Matcher.of(MatchType.REGEX, METRIC_NAME, ".+_info"), *matchers]
    return [Matcher.of(MatchType.EQUAL, METRIC_NAME, TARGET_INFO)]


def _signature(name: str, labels: Labels) -> tuple[str, tuple[str, ...]]:
    return name, tuple(f"{n}={v}" for n in IDENTIFYING if (v := get(labels, n)))


def info(ev: Evaluator, args: list[pp.Expr], span: Steps) -> Vector:
    n = span.n
    at, offset = _reference(args[0])
    base = ev.vector(args[0], span)
    data: dict[str, list[Matcher]] = {}
    if len(args) > 1:
        for m in selector_matchers(label_selector(args[1]))[0]:
            if m.name != MARK:
                data.setdefault(m.name, []).append(m)
        names = data.pop(METRIC_NAME, [])
    else:
        names = [Matcher.of(MatchType.EQUAL, METRIC_NAME, TARGET_INFO)]
    effective = _effective_names(names)
    ignored = [all(m.matches(get(labels, METRIC_NAME)) for m in effective) for labels in base.labels]
    wanted: dict[str, set[str]] = {}
    for labels, skip in zip(base.labels, ignored, strict=True):
        if skip:
            continue
        for name in IDENTIFYING:
            if value := get(labels, name):
                wanted.setdefault(name, set()).add(value)
    info_labels: list[Labels] = []
    info_ts = np.empty((0, n), dtype=np.int64)
    info_present = np.empty((0, n), dtype=bool)
    if wanted:
        info_labels, info_ts, info_present = _info_series(ev, data, effective, wanted, at, offset, span)
    data_matchers = [m for ms in data.values() for m in ms]
    must_match = any(not m.matches("") for m in data_matchers)
    info_names = sorted({get(labels, METRIC_NAME) for labels in info_labels})
    info_sigs = [_signature(get(labels, METRIC_NAME), labels) for labels in info_labels]
    base_sigs = [[_signature(name, labels) for name in info_names] for labels in base.labels]

    rows: dict[Labels, StepSeries] = {}
    order: list[Labels] = []
    for i in range(n):
        ev.budget.check_time()
        by_sig: dict[tuple[str, tuple[str, ...]], int] = {}
        for k in np.flatnonzero(info_present[:, i]).tolist():
            sig = info_sigs[k]
            prior = by_sig.get(sig)
            if prior is None or info_ts[prior, i] < info_ts[k, i]:
                by_sig[sig] = k
            elif info_ts[prior, i] == info_ts[k, i]:
                raise QueryError(
                    f"found duplicate series for info metric: existing {format_labels(info_labels[prior])} "
                    f"@ {info_ts[prior, i]}, new {format_labels(info_labels[k])} @ {info_ts[k, i]}"
                )
        for row in np.flatnonzero(base.present[:, i]).tolist():
            labels = base.labels[row]
            if not ignored[row]:
                enriched = _enriched(
                    labels, [by_sig[s] for s in base_sigs[row] if s in by_sig], info_labels, data
                )
                if enriched is None:
                    if must_match:
                        continue
                else:
                    labels = enriched
            out = rows.get(labels)
            if out is None:
                out = StepSeries(labels, np.zeros(n), np.zeros(n, dtype=bool), bool(base.drop_name[row]))
                rows[labels] = out
                order.append(labels)
            elif out.present[i]:
                raise QueryError("vector cannot contain metrics with the same labelset")
            out.values[i] = base.values[row, i]
            out.present[i] = True
    return Vector.of([rows[labels] for labels in order], n)


def _enriched(
    labels: Labels, matched: list[int], info_labels: list[Labels], data: dict[str, list[Matcher]]
) -> Labels | None:
    """The base series' labels with the data labels of its info series; None when none matched."""
    if not matched:
        return None
    have = dict(labels)
    added: dict[str, str] = {}
    for k in matched:
        for name, value in info_labels[k]:
            if name == METRIC_NAME or (data and name not in data):
                continue
            prior = added.get(name)
            if prior is not None and prior != value:
                raise QueryError(f"conflicting label: {name}")
            if name not in have:
                added[name] = value
    if not added:
        return labels
    return tuple(sorted({**have, **added}.items()))


def _info_series(
    ev: Evaluator,
    data: dict[str, list[Matcher]],
    names: list[Matcher],
    wanted: dict[str, set[str]],
    at: AtTime | None,
    offset: int,
    span: Steps,
) -> tuple[list[Labels], np.ndarray, np.ndarray]:
    """The info series sharing identifying labels with the base series, and for every step the
    time of the sample each one has then (looked back as a selector does), and whether it has one."""
    ref = ev._ref_times(at, offset, span)
    matchers = [m for ms in data.values() for m in ms] + names
    found = ev.storage.select(matchers, int(ref.min()) - ev.lookback_ms + 1, int(ref.max()))
    labels: list[Labels] = []
    stamps: list[np.ndarray] = []
    present: list[np.ndarray] = []
    for s in found:
        if not all(get(s.labels, name) in values for name, values in wanted.items()):
            continue
        if s.native_histograms or (s.histograms is not None and any(h is not None for h in s.histograms)):
            raise QueryError(f"this should be an info metric, with float samples: {format_labels(s.labels)}")
        idx = np.searchsorted(s.timestamps, ref, side="right") - 1
        ok = idx >= 0
        safe = np.where(ok, idx, 0)
        ts = s.timestamps[safe] if len(s.timestamps) else np.zeros(span.n, dtype=np.int64)
        ok &= ts > ref - ev.lookback_ms
        if len(s.values):
            ok &= ~stale_mask(s.values[safe])
        if ok.any():
            labels.append(s.labels)
            stamps.append(ts.astype(np.int64))
            present.append(ok)
    if not labels:
        return [], np.empty((0, span.n), dtype=np.int64), np.empty((0, span.n), dtype=bool)
    return labels, np.array(stamps), np.array(present)
