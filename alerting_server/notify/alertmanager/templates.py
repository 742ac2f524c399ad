"""The template set of Alertmanager's notifications (template/template.go `FromGlobs`).

Alertmanager parses its `default.tmpl` and `email.tmpl`, then the user's template files in order;
a later file's {{define}} replaces an earlier one of the same name (an empty one does not), so a
user file can redefine `slack.default.title`. A receiver's field is parsed into a copy of that
set under the name "" and run (`ExecuteTextString`, or `ExecuteHTMLString` for an email's `html`,
which escapes as html/template does); an empty field renders as "" without running anything.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping, Sequence
from importlib import resources

from alerting_server.templating import (
    ALERTMANAGER_FUNCTIONS,
    BUILTIN_FUNCTIONS,
    Template,
    TemplateError,
    alertmanager_functions,
    nodes,
)
from alerting_server.templating.parser import is_empty_tree, parse

log = logging.getLogger(__name__)

DEFAULT_TEMPLATE_FILES = ("default.tmpl", "email.tmpl")
_CACHE_SIZE = 1024


def parse_file(name: str, text: str) -> dict[str, nodes.ListNode]:
    """The templates one file defines (its own text under `name`); raises TemplateError."""
    trees: dict[str, nodes.ListNode] = {}
    try:
        parse(text, name, BUILTIN_FUNCTIONS | ALERTMANAGER_FUNCTIONS, trees)
    except RecursionError:
        raise TemplateError(f"template: {name}: max expression depth exceeded") from None
    return trees


def _merge(into: dict[str, nodes.ListNode], trees: Mapping[str, nodes.ListNode]) -> None:
    """Go's AddParseTree of each tree: it replaces a template of the same name, unless it is empty."""
    for name, tree in trees.items():
        if name in into and is_empty_tree(tree):
            continue
        into[name] = tree


@functools.cache
def default_trees() -> Mapping[str, nodes.ListNode]:
    package = resources.files(__package__)
    trees: dict[str, nodes.ListNode] = {}
    for name in DEFAULT_TEMPLATE_FILES:
        _merge(trees, parse_file(name, (package / name).read_text(encoding="utf-8")))
    return trees


class TemplateSet:
    """Alertmanager's default templates and the user's files (name, text) read after them.

    A file that does not parse is left out and told in `errors` (the configuration loader refuses
    such files before they are stored).
    """

    def __init__(self, files: Sequence[tuple[str, str]] = ()) -> None:
        self.files = tuple(files)
        trees = dict(default_trees())
        self.errors: list[str] = []
        for name, text in self.files:
            try:
                _merge(trees, parse_file(name, text))
            except TemplateError as e:
                self.errors.append(str(e))
                log.warning("notification template file %r left out: %s", name, e)
        self._trees: Mapping[str, nodes.ListNode] = trees
        self._parsed: dict[tuple[str, str], Template] = {}

    def names(self) -> list[str]:
        """The templates the set defines."""
        return sorted(self._trees)

    def template(self, text: str, name: str = "") -> Template:
        """A receiver field's text parsed into the set (Alertmanager names it ""); raises TemplateError."""
        found = self._parsed.get((name, text))
        if found is not None:
            return found
        own = parse_file(name, text)
        trees = dict(self._trees)
        _merge(trees, own)
        template = Template(name, text, trees)
        if len(self._parsed) >= _CACHE_SIZE:
            self._parsed.clear()
        self._parsed[(name, text)] = template
        return template

    def text(self, text: str, data: object, now_ms: int, name: str = "") -> str:
        """ExecuteTextString; raises TemplateError."""
        return self._run(text, data, now_ms, name, html=False)

    def html(self, text: str, data: object, now_ms: int, name: str = "") -> str:
        """ExecuteHTMLString; raises TemplateError."""
        return self._run(text, data, now_ms, name, html=True)

    def _run(self, text: str, data: object, now_ms: int, name: str, *, html: bool) -> str:
        if text == "":
            return ""
        template = self.template(text, name)
        try:
            return template.execute(data, alertmanager_functions(now_ms=now_ms), html=html)
        except RecursionError:
            raise TemplateError("template: : exceeded maximum template depth") from None


@functools.cache
def default_set() -> TemplateSet:
    """Alertmanager's default templates alone (one shared set, so its parses are cached)."""
    return TemplateSet()
