"""A parsed template: the public face of the engine."""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Mapping

from alerting_server.templating import nodes
from alerting_server.templating.builtins import BUILTINS
from alerting_server.templating.errors import TemplateError
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

    def execute(
        self, data: object, funcs: Mapping[str, Callable[..., object]] | None = None, *, html: bool = False
    ) -> str:
        """Renders the template on `data`; raises TemplateError as Go's Execute would fail.

        `funcs` supplies the functions the template calls (besides Go's builtins); by default
        Prometheus' functions without a query engine or external URL. `tmpl` is always bound to
        this template's set. `html` escapes as Go's html/template does.
        """
        table: dict[str, Callable[..., object]] = dict(BUILTINS)
        table.update(prometheus_functions() if funcs is None else funcs)
        table["tmpl"] = self._tmpl(table)
        return execute(self.text, self.name, self.trees, table, data, html=html)

    def endless_recursion(self) -> str | None:
        """A template that running this one reaches, and that calls itself by {{template}} outside any
        if, with or range: it can end only at the depth limit. None when there is none (a recursion
        under a condition may well end, and cannot be told apart statically)."""

        def calls(name: str) -> list[str]:
            tree = self.trees.get(name)
            return [] if tree is None else [c.name for c in tree.nodes if isinstance(c, nodes.TemplateNode)]

        path: list[str] = []
        done: set[str] = set()

        def visit(name: str) -> str | None:
            if name in path:
                return name
            if name in done:
                return None
            path.append(name)
            for callee in calls(name):
                if (found := visit(callee)) is not None:
                    return found
            path.pop()
            done.add(name)
            return None

        return visit(self.name)

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
    try:
        parse(text, name, allowed, trees)
    except RecursionError:
        # Go's parser stops at 10000 nested pipelines; Python's stack ends sooner.
        raise TemplateError(f"template: {name}: max expression depth exceeded") from None
    return Template(name, text, trees)
