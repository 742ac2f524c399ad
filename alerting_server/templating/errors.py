"""The one error of the template engine."""

from __future__ import annotations


class TemplateError(Exception):
    """A parse or execution error, worded the way Go's text/template words it.

    `template: summary:1: function "foo" not defined` (parse) or
    `template: summary:1:3: executing "summary" at <humanize "x">: error calling humanize: ...` (execution).
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message
