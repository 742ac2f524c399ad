"""A parsed template: the public face of the engine."""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Mapping

from alerting_server.templating import nodes
from alerting_server.templating.builtins import BUILTINS
from alerting_server.templating.executor import execute
from alerting_server.templating.names import BUILTIN_FUNCTIONS, PROMETHEUS_FUNCTIONS
from alerting_server.templating.parser import parse
from alerting_server.templating.prometheus_funcs import prometheus_functions


class Template:
    """A named template and the templates it {{define}}s, ready to execute."""

    def __init__(self, name: str, text: str, trees: dict[str, nodes.ListNode]) -> None:
        self.name = name
        self.text = text
        self.trees = trees

    @property
    def root(self) -> nodes.ListNode:
        return self.trees[self.name]

    def execute(self, data: object, funcs: Mapping[str, Callable[..., object]] | None = None) -> str:
        """Renders the template on `data`; raises TemplateError as Go's Execute would fail.

        `funcs` supplies the functions the template calls (besides Go's builtins); by default
        Prometheus' functions without a query engine or external URL. `tmpl` is always bound to
        this template's set.
        """
        table: dict[str, Callable[..., object]] = dict(BUILTINS)
        table.update(prometheus_functions() if funcs is None else funcs)
        table["tmpl"] = self._tmpl(table)
        return execute(self.text, self.name, self.trees, table, data)

    def execute_template(
        self, template_name: str, data: object, funcs: Mapping[str, Callable[..., object]] | None = None
    ) -> str:
        """Renders one {{define}}d template of the set (Go's ExecuteTemplate)."""
        table: dict[str, Callable[..., object]] = dict(BUILTINS)
        table.update(prometheus_functions() if funcs is None else funcs)
        table["tmpl"] = self._tmpl(table)
        return execute(self.text, self.name, self.trees, table, data, template_name)

    def _tmpl(self, table: Mapping[str, Callable[..., object]]) -> Callable[[str, object], str]:
        def tmpl(name: str, data: object) -> str:
            return execute(self.text, self.name, self.trees, table, data, name)

        return tmpl


def parse_template(text: str, name: str = "template", funcs: Collection[str] | None = None) -> Template:
    """Parses Go-template `text`; raises TemplateError with Go's message.

    `funcs` names the functions the template may call besides Go's builtins; by default every
    Prometheus template function.
    """
    return _parse(text, name, None if funcs is None else frozenset(funcs))


@functools.lru_cache(maxsize=8192)
def _parse(text: str, name: str, funcs: frozenset[str] | None) -> Template:
    # Rules render the same annotation templates every evaluation: parse each text once.
    # A Template is not changed by executing it, so one parsed copy serves every caller.
    allowed = BUILTIN_FUNCTIONS | (PROMETHEUS_FUNCTIONS if funcs is None else funcs)
    trees: dict[str, nodes.ListNode] = {}
    parse(text, name, allowed, trees)
    return Template(name, text, trees)
