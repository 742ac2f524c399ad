"""A recording rule: the query's result renamed and relabelled, as Prometheus' rules/recording.go."""

from __future__ import annotations

import math

from alerting_server.model import Rule
from alerting_server.query.errors import QueryError
from alerting_server.query.labels import METRIC_NAME
from alerting_server.query.tsdb import HistogramSample, Sample
from alerting_server.rules.vector import QueryFunc


class RecordingRule:
    def __init__(self, rule: Rule) -> None:
        self.rule = rule

    @property
    def name(self) -> str:
        return self.rule.name

    def eval(self, ts: int, query: QueryFunc) -> list[Sample]:
        """The samples to record at `ts`; QueryError when two of them end up with the same labels."""
        out: list[Sample] = []
        seen = set()
        for sample in query(self.rule.query, ts):
            labels = dict(sample.labels)
            labels[METRIC_NAME] = self.name
            # Rule labels are not templated here; an empty one removes the label (labels.Builder.Set).
            for name, value in self.rule.labels.items():
                if value:
                    labels[name] = value
                else:
                    labels.pop(name, None)
            key = tuple(sorted(labels.items()))
            if key in seen:
                raise QueryError("vector contains metrics with the same labelset after applying rule labels")
            seen.add(key)
            if sample.histogram is None:
                out.append(Sample(key, ts, sample.value))
            else:
                out.append(HistogramSample(key, ts, math.nan, sample.histogram))
        return out
