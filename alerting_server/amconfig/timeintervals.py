"""An entry of Alertmanager's time_intervals, checked by the parser the API uses (timeintervals/) so that
a file and a POST /time-intervals accept exactly the same documents; each problem is told at the line
of the field it names."""

from __future__ import annotations

import re

import yaml

from alerting_server.amconfig.loaded import TimeIntervalSpec
from alerting_server.amconfig.nodes import Reader, to_python
from alerting_server.errors import InvalidArgument
from alerting_server.timeintervals import parse_time_interval

_STEP = re.compile(r"\.?([^.\[\]]+)|\[(\d+)\]")


def read_time_interval(r: Reader, node: yaml.Node, path: str) -> TimeIntervalSpec | None:
    fields = r.mapping(node, path, ("name", "time_intervals"), "a time interval")
    if fields is None:
        return None
    name = r.string(fields["name"], f"{path}.name") if "name" in fields else ""
    if not name:
        r.error(f"{path}.name", node, "missing name in time interval")
        return None
    specs_node = fields.get("time_intervals")
    specs = to_python(specs_node) if specs_node is not None else []
    try:
        interval = parse_time_interval(name, specs if specs is not None else [], path)
    except InvalidArgument as e:
        for v in e.violations:
            r.error(v.field, _node_at(node, v.field.removeprefix(path)), v.description)
        return None
    return TimeIntervalSpec(name, tuple(interval.to_json()))


def _node_at(node: yaml.Node, path: str) -> yaml.Node:
    """The deepest node of `node` that `path` (`.time_intervals[0].times[1].end_time`) reaches."""
    for m in _STEP.finditer(path):
        key, index = m.group(1), m.group(2)
        if key is not None and isinstance(node, yaml.MappingNode):
            found = next((v for k, v in node.value if k.value == key), None)
        elif index is not None and isinstance(node, yaml.SequenceNode) and int(index) < len(node.value):
            found = node.value[int(index)]
        else:
            found = None
        if found is None:
            break
        node = found
    return node
