"""Reading a composed YAML document field by field, as Alertmanager's strict unmarshalling does:
every problem names the field's path and its line, and a field the format does not have is an
error, never dropped."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import yaml

from alerting_common.durations import parse_duration

_NULL = "tag:yaml.org,2002:null"
_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_TRUE = {"true", "yes", "on", "y"}
_FALSE = {"false", "no", "off", "n"}


@dataclass(frozen=True)
class Problem:
    """What is wrong at `field` (a path like `route.routes[0].receiver`), on `line` (1-based; 0:
    the file as a whole)."""

    field: str
    line: int
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        return f"{where}{self.field}: {self.message}" if self.field else f"{where}{self.message}"


def line_of(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


@dataclass
class Reader:
    """Collects every problem of a document, so that one check names them all."""

    problems: list[Problem] = field(default_factory=list)
    # Fields Alertmanager has that this server accepts but does not act on.
    warnings: list[Problem] = field(default_factory=list)

    def error(self, path: str, node: yaml.Node | None, message: str) -> None:
        self.problems.append(Problem(path, line_of(node) if node is not None else 0, message))

    def warn(self, path: str, node: yaml.Node | None, message: str) -> None:
        self.warnings.append(Problem(path, line_of(node) if node is not None else 0, message))

    def mapping(
        self, node: yaml.Node, path: str, known: Iterable[str], what: str = ""
    ) -> dict[str, yaml.Node] | None:
        """The fields of a mapping; an unknown or repeated key is an error naming it. None for a
        null node (an absent section); a node of another kind is an error."""
        if is_null(node):
            return None
        if not isinstance(node, yaml.MappingNode):
            self.error(path, node, f"must be a mapping, got {kind(node)}")
            return None
        allowed = set(known)
        out: dict[str, yaml.Node] = {}
        for key_node, value in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else ""
            where = join(path, key)
            if key in out:
                self.error(where, key_node, "repeated field")
            elif key not in allowed:
                self.error(where, key_node, f"field {key} not found in {what or 'this section'}")
            else:
                out[key] = value
        return out

    def sequence(self, node: yaml.Node, path: str) -> list[yaml.Node]:
        if is_null(node):
            return []
        if not isinstance(node, yaml.SequenceNode):
            self.error(path, node, f"must be a list, got {kind(node)}")
            return []
        return list(node.value)

    def string(self, node: yaml.Node, path: str) -> str:
        """A scalar as text (Go's YAML turns numbers and booleans into strings too); null is ""."""
        if is_null(node):
            return ""
        if not isinstance(node, yaml.ScalarNode):
            self.error(path, node, f"must be a string, got {kind(node)}")
            return ""
        return str(node.value)

    def boolean(self, node: yaml.Node, path: str) -> bool | None:
        if is_null(node):
            return None
        if isinstance(node, yaml.ScalarNode) and node.value.lower() in _TRUE | _FALSE:
            return node.value.lower() in _TRUE
        self.error(path, node, f"must be true or false, got {describe(node)}")
        return None

    def integer(self, node: yaml.Node, path: str, *, minimum: int = 0) -> int | None:
        if is_null(node):
            return None
        if isinstance(node, yaml.ScalarNode):
            try:
                value = int(node.value, 0)
            except ValueError:
                pass
            else:
                if value >= minimum:
                    return value
        self.error(path, node, f"must be an integer of at least {minimum}, got {describe(node)}")
        return None

    def duration(self, node: yaml.Node, path: str) -> int | None:
        """Milliseconds of a Prometheus duration ("30s", "1h30m"); None when absent."""
        text = self.string(node, path)
        if not text:
            return None
        try:
            return parse_duration(text)
        except ValueError as e:
            self.error(path, node, f'not a valid duration string: "{text}" ({e})')
            return None

    def strings(self, node: yaml.Node, path: str) -> list[str]:
        return [self.string(item, f"{path}[{i}]") for i, item in enumerate(self.sequence(node, path))]

    def string_map(self, node: yaml.Node, path: str) -> dict[str, tuple[str, yaml.Node]]:
        """A mapping of strings to strings, each value with its node (a null value is ""), in order."""
        if is_null(node):
            return {}
        if not isinstance(node, yaml.MappingNode):
            self.error(path, node, f"must be a mapping, got {kind(node)}")
            return {}
        out: dict[str, tuple[str, yaml.Node]] = {}
        for key_node, value in node.value:
            key = self.string(key_node, path)
            if key in out:
                self.error(join(path, key), key_node, "repeated key")
                continue
            out[key] = (self.string(value, join(path, key)), value)
        return out


def join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def is_null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == _NULL


def kind(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    return f"{describe(node)}"


def describe(node: yaml.Node) -> str:
    if isinstance(node, yaml.ScalarNode):
        return f"{node.value!r}"
    return kind(node)


def to_python(node: yaml.Node) -> object:
    """A node as plain data (for free-form fields such as PagerDuty's details)."""
    if isinstance(node, yaml.MappingNode):
        return {str(to_python(k)): to_python(v) for k, v in node.value}
    if isinstance(node, yaml.SequenceNode):
        return [to_python(item) for item in node.value]
    if node.tag == _NULL:
        return None
    if node.tag == _BOOL:
        return str(node.value).lower() in _TRUE
    if node.tag == _INT:
        try:
            return int(node.value, 0)
        except ValueError:
            return node.value
    return node.value


def compose(text: str) -> yaml.Node | None:
    """The document's node tree (line numbers kept); YAMLError on a syntax error."""
    node: yaml.Node | None = yaml.compose(text, Loader=yaml.SafeLoader)
    return node


def scalar_spans(node: yaml.Node, keys: Mapping[str, bool]) -> list[tuple[int, int]]:
    """Character spans of the scalar values under mapping keys in `keys` (anywhere in the tree);
    for a key whose flag is True, of every scalar below it (header maps)."""
    spans: list[tuple[int, int]] = []

    def every_scalar(n: yaml.Node) -> None:
        if isinstance(n, yaml.ScalarNode):
            if n.value != "" and n.tag != _NULL:
                spans.append((n.start_mark.index, n.end_mark.index))
        elif isinstance(n, yaml.MappingNode):
            for _, v in n.value:
                every_scalar(v)
        elif isinstance(n, yaml.SequenceNode):
            for item in n.value:
                every_scalar(item)

    def walk(n: yaml.Node) -> None:
        if isinstance(n, yaml.MappingNode):
            for k, v in n.value:
                name = k.value if isinstance(k, yaml.ScalarNode) else ""
                if name in keys and (keys[name] or isinstance(v, yaml.ScalarNode)):
                    every_scalar(v)
                else:
                    walk(v)
        elif isinstance(n, yaml.SequenceNode):
            for item in n.value:
                walk(item)

    walk(node)
    return spans
