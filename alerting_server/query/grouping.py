"""Grouping the rows of a columnar vector, and sums over the groups that round as Prometheus does."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from alerting_server.query.labels import METRIC_NAME, Labels
from alerting_server.query.sizedcache import SizedCache
from alerting_server.query.steps import Mask

Ids = npt.NDArray[np.intp]
Floats = npt.NDArray[np.float64]

# A padded (rank x group x step) block is used while it wastes at most this factor over the input.
_PADDING_SLACK = 2


@dataclass(frozen=True)
class Groups:
    """`ids[i]` is the group of row i; groups are numbered in order of first appearance."""

    labels: list[Labels]
    ids: Ids

    @property
    def count(self) -> int:
        return len(self.labels)


# The groupings of the label lists seen lately: a rule group aggregates the same series at every
# evaluation, and hashing their labels is a fraction of the cost of grouping them again. Bounded by
# rows, since it keeps their labels alive: 10,000 rules in groups of 100, each group aggregating two
# kinds of 500 series, hold 100,000.
_MEMO: SizedCache[tuple[tuple[Labels, ...], tuple[str, ...], bool], Groups] = SizedCache(200_000)


# The same groupings found first by where the rows' label sets are: a rule group's aggregation reads
# the same label set objects at every evaluation, and comparing rows by identity (what a tuple
# comparison does first for each element) costs a fraction of hashing them for _MEMO. The rows are
# still compared in full, so a place reused by other label sets finds nothing wrong.
# Bounded by rows, as _MEMO is, since it keeps their label sets alive.
_RECENT: dict[tuple[int, int, int, tuple[str, ...], bool], tuple[tuple[Labels, ...], Groups]] = {}
_MAX_RECENT_ROWS = 200_000
_recent_rows = 0


def group_rows(series: Sequence[Labels], grouping: Sequence[str], is_without: bool) -> Groups:
    """The groups of the rows by their labels `grouping` (or `without` them and the name)."""
    rows = tuple(series)
    names = tuple(grouping)
    place = (len(rows), id(rows[0]) if rows else 0, id(rows[-1]) if rows else 0, names, is_without)
    recent = _RECENT.get(place)
    if recent is not None and recent[0] == rows:
        found = recent[1]
    else:
        key = (rows, names, is_without)
        memo = _MEMO.get(key)
        if memo is None:
            memo = _group_rows(series, grouping, is_without)
            _MEMO.put(key, memo, len(series))
        found = memo
        _remember(place, rows, found)
    # The ids are read-only; the labels become a result's rows, which its reader may change.
    return Groups(list(found.labels), found.ids)


def _remember(
    place: tuple[int, int, int, tuple[str, ...], bool], rows: tuple[Labels, ...], found: Groups
) -> None:
    global _recent_rows
    if len(rows) > _MAX_RECENT_ROWS // 16:
        return
    if _recent_rows + len(rows) > _MAX_RECENT_ROWS:
        _RECENT.clear()
        _recent_rows = 0
    previous = _RECENT.get(place)
    _RECENT[place] = (rows, found)
    _recent_rows += len(rows) - (len(previous[0]) if previous is not None else 0)


def _group_rows(series: Sequence[Labels], grouping: Sequence[str], is_without: bool) -> Groups:
    names = {*grouping, METRIC_NAME} if is_without else set(grouping)
    index: dict[Labels, int] = {}
    ids = np.empty(len(series), dtype=np.intp)
    for i, labels in enumerate(series):
        key = tuple([p for p in labels if (p[0] in names) is not is_without])
        ids[i] = index.setdefault(key, len(index))
    ids.flags.writeable = False
    return Groups(list(index), ids)


def any_per_group(groups: Groups, mask: Mask) -> Mask:
    """OR of the rows' masks (rows x steps) per group."""
    return count_per_group(groups, mask) > 0


def count_per_group(groups: Groups, mask: Mask) -> npt.NDArray[np.int64]:
    if mask.ndim == 1:
        return np.bincount(groups.ids, weights=mask, minlength=groups.count).astype(np.int64)
    # One bincount per step: np.add.at over rows is many times slower.
    out = np.empty((groups.count, mask.shape[1]), dtype=np.int64)
    for step in range(mask.shape[1]):
        out[:, step] = np.bincount(groups.ids, weights=mask[:, step], minlength=groups.count)
    return out


def kahan_sum(groups: Groups, values: Floats, present: Mask) -> tuple[Floats, Floats]:
    """Per group and step, Neumaier's sum of the present values in row order (kahansum.Inc).

    Returns the running sum and its compensation, exactly as a member-by-member loop would.
    Absent values are replaced by -0.0, which leaves both the running sum and the compensation
    bit for bit unchanged, so every group can be summed along one axis at once.
    """
    n = values.shape[1]
    filled = np.where(present, values, -0.0)
    order = np.argsort(groups.ids, kind="stable")
    sorted_ids = groups.ids[order]
    sizes = np.bincount(groups.ids, minlength=groups.count)
    total = np.zeros((groups.count, n))
    comp = np.zeros((groups.count, n))
    if not len(order):
        return total, comp
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    longest = int(sizes.max())
    if longest * groups.count <= _PADDING_SLACK * len(order) + 1024:
        rank = np.arange(len(order)) - starts[sorted_ids]
        block = np.full((longest, groups.count, n), -0.0)
        block[rank, sorted_ids] = filled[order]
        return _neumaier(block)
    for g in range(groups.count):
        rows = order[starts[g] : starts[g] + sizes[g]]
        t, c = _neumaier(filled[rows][:, None, :])
        total[g], comp[g] = t[0], c[0]
    return total, comp


def _neumaier(block: Floats) -> tuple[Floats, Floats]:
    """Sum along axis 0 (rank) of a (rank x group x step) block, seeded with the first row."""
    with np.errstate(invalid="ignore", over="ignore"):
        running = np.cumsum(block, axis=0)
        prev, cur, inc = running[:-1], running[1:], block[1:]
        err = np.where(np.abs(prev) >= np.abs(inc), (prev - cur) + inc, (inc - cur) + prev)
        # The compensation restarts from zero whenever the running sum becomes infinite.
        rank = np.arange(block.shape[0]).reshape(-1, 1, 1)
        last_inf = np.where(np.isinf(running), rank, -1).max(axis=0)
        err = np.where(rank[1:] > last_inf, err, 0.0)
        comp = np.cumsum(np.concatenate([np.zeros((1, *block.shape[1:])), err]), axis=0)[-1]
    return running[-1], comp
