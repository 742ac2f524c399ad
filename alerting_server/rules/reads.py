"""Which rules of a group a write can change: the metric names each rule reads, and of each of its
selectors what a series must have to be selected (Analysis.series_keys).

A rule whose inputs got no new sample would evaluate to what it returned before, so an
evaluation caused by a write only needs the rules reading a written series, plus the rules
later in the group that read what those record (a recording rule feeds the rules after it).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence

from alerting_server.model import Rule, RuleType
from alerting_server.query.analysis import Analysis, analysed
from alerting_server.query.labels import METRIC_NAME, Labels, get


def known_reads(query: str) -> Analysis | None:
    """None when the metrics the query reads are unknown: it does not parse, or validation refuses
    it; the rule then reads nothing and fails when evaluated."""
    found = analysed(query)
    return found if found is not None and found.problem is None else None


class GroupReads:
    def __init__(self, rules: Sequence[Rule]) -> None:
        self._rules = list(rules)
        self._infos = [known_reads(r.query) for r in rules]
        # Exact names answer most writes with one dict lookup; pattern selectors are checked one by one.
        self._by_name: dict[str, list[int]] = {}
        self._patterned: list[int] = []
        for i, info in enumerate(self._infos):
            if info is None:
                continue
            for name in info.metric_names:
                self._by_name.setdefault(name, []).append(i)
            if info.name_matchers:
                self._patterned.append(i)

    @property
    def metric_names(self) -> frozenset[str]:
        return frozenset(self._by_name)

    @property
    def has_patterns(self) -> bool:
        return bool(self._patterned)

    def _reading(self, name: str) -> list[int]:
        return [*self._by_name.get(name, ()), *self._patterned_reading(name)]

    def _patterned_reading(self, name: str) -> list[int]:
        """The rules with a selector naming no single metric that reads `name`."""
        return [i for i in self._patterned if (info := self._infos[i]) is not None and info.reads(name)]

    def affected(self, names: Iterable[str]) -> list[int]:
        """Positions of the rules whose result may change after a write of `names`, in group order."""
        hit: set[int] = set()
        for name in names:
            hit.update(self._reading(name))
        return self.closure(hit)

    def series_keys(self) -> Iterator[tuple[tuple[str, str, str], int]]:
        """Each rule's (position) keys of what a written series must have to be read by one of its
        selectors (Analysis.series_keys)."""
        for i, info in enumerate(self._infos):
            if info is not None:
                for key in info.series_keys:
                    yield key, i

    def patterned_reading(self, names: Iterable[str]) -> set[int]:
        """Positions of the rules with a selector naming no single metric that reads one of `names`."""
        return {i for name in names for i in self._patterned_reading(name)}

    def closure(self, positions: Iterable[int]) -> list[int]:
        """`positions` and the rules after them reading what they record, in group order."""
        hit = set(positions)
        if not hit:
            return []
        # Downstream of a recording rule that will run: the rules after it reading its metric.
        for i in range(len(self._rules)):
            rule = self._rules[i]
            if i in hit and rule.type is RuleType.RECORDING:
                hit.update(j for j in self._reading(rule.name) if j > i)
        return sorted(hit)


# An index entry: the groups' rules (positions) taking the series that reach it.
_Entry = list[tuple[str, frozenset[int]]]
# Label sets whose reach SeriesReaders remembers, at most (it starts over when past it).
_MAX_REMEMBERED = 200_000


class SeriesReaders:
    """The rules of many groups by what a written series must have for a selector of theirs to take
    it: a write of many series (a remote-write batch) wakes the rules that may read some of them, not
    every rule reading their metrics. Built from the groups' GroupReads, again when the rules change."""

    def __init__(self, groups: Mapping[str, GroupReads]) -> None:
        # Metric name, label, value: the groups' rules (positions) taking such series.
        self._index: dict[str, dict[str, dict[str, _Entry]]] = {}
        self._patterned = {key: reads for key, reads in groups.items() if reads.has_patterns}
        for key, reads in groups.items():
            positions: dict[tuple[str, str, str], set[int]] = {}
            for series_key, i in reads.series_keys():
                positions.setdefault(series_key, set()).add(i)
            for (name, label, value), found in positions.items():
                entry = self._index.setdefault(name, {}).setdefault(label, {}).setdefault(value, [])
                entry.append((key, frozenset(found)))
        # What each label set written lately reached, by the label set's identity: a writer sends
        # the same series again and again, and remote write hands over the same label set object
        # for a series each time. An entry holds its label set, so its id is not reused meanwhile.
        self._reached: dict[int, tuple[Labels, str, list[_Entry]]] = {}

    def hits(self, series: Iterable[Labels]) -> dict[str, set[int]]:
        """By group, the positions of the rules a selector of which may take one of these series."""
        if not self._index and not self._patterned:
            return {}
        remembered = self._reached
        if len(remembered) > _MAX_REMEMBERED:
            remembered.clear()
        names: set[str] = set()
        # The index entries the series reach, each once: many series reach the same (the cpus of a
        # host), and are merged into the groups' positions after.
        reached: dict[int, _Entry] = {}
        for labels in series:
            known = remembered.get(id(labels))
            if known is None or known[0] is not labels:
                known = remembered[id(labels)] = (labels, *self._reach(labels))
            names.add(known[1])
            for found in known[2]:
                reached[id(found)] = found
        hit: dict[str, set[int]] = {}
        for found in reached.values():
            for key, positions in found:
                hit.setdefault(key, set()).update(positions)
        for key, reads in self._patterned.items():
            patterned = reads.patterned_reading(names)
            if patterned:
                hit.setdefault(key, set()).update(patterned)
        return hit

    def _reach(self, labels: Labels) -> tuple[str, list[_Entry]]:
        """The series' metric name and the index entries it reaches."""
        # A label set is sorted: the name comes first unless a label name sorts before it.
        name = labels[0][1] if labels and labels[0][0] == METRIC_NAME else get(labels, METRIC_NAME)
        by_label = self._index.get(name)
        if by_label is None:
            return name, []
        out = []
        for label, values in by_label.items():
            value = ""
            if label:
                for k, v in labels:
                    if k == label:
                        value = v
                        break
            found = values.get(value)
            if found is not None:
                out.append(found)
        return name, out
