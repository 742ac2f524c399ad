"""A YAML parse error in one line, with where it is: PyYAML's own message takes three or more."""

from __future__ import annotations

import yaml


def describe(exc: yaml.YAMLError) -> str:
    if not isinstance(exc, yaml.MarkedYAMLError):
        return " ".join(str(exc).split())
    what = "; ".join(part for part in (exc.context, exc.problem) if part) or type(exc).__name__
    mark = exc.problem_mark or exc.context_mark
    return f"line {mark.line + 1}, column {mark.column + 1}: {what}" if mark else what
