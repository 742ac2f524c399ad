"""A parsed template: the public face of the engine."""

from __future__ import annotations

from collections.abc import Collection

from alerting_server.templating import nodes
from alerting_server.templating.names import BUILTIN_FUNCTIONS, PROMETHEUS_FUNCTIONS
from alerting_server.templating.parser import parse


class Template:
    """A named template and the templates it {{define}}s, ready to execute."""

    def __init__(self, name: str, text: str, trees: dict[str, nodes.ListNode]) -> None:
        self.name = name
        self.text = text
        self.trees = trees

    @property
    def root(self) -> nodes.ListNode:
        return self.trees[self.name]


def parse_template(text: str, name: str = "template", funcs: Collection[str] | None = None) -> Template:
    """Parses Go-template `text`; raises TemplateError with Go's message.

    `funcs` names the functions the template may call besides Go's builtins; by default every
    Prometheus template function.
    """
    allowed = BUILTIN_FUNCTIONS | frozenset(PROMETHEUS_FUNCTIONS if funcs is None else funcs)
    trees: dict[str, nodes.ListNode] = {}
    parse(text, name, allowed, trees)
    return Template(name, text, trees)
