"""Parse errors carry Go's text/template messages (cases from Go's parse_test.go and exec_test.go)."""

from __future__ import annotations

import pytest

from alerting_server.templating import TemplateError, parse_template

ERRORS = [
    ("{{ foo }}", 'template: x:1: function "foo" not defined'),
    ("{{ if 1 }}", "template: x:1: unexpected EOF"),
    ("{{end}}", "template: x:1: unexpected {{end}}"),
    ("{{else}}", "template: x:1: unexpected {{else}}"),
    ("{{", "template: x:1: unclosed action"),
    ("{{ .a\n\n", "template: x:3: unclosed action started at x:1"),
    ("{{ $x }}", 'template: x:1: undefined variable "$x"'),
    ('{{ "a" | 3 }}', "template: x:1: non executable command in pipeline stage 2"),
    ("{{ 1 }", 'template: x:1: unexpected "}" in operand'),
    ("{{ (1 }}", "template: x:1: unclosed left paren"),
    ("{{ 1) }}", "template: x:1: unexpected right paren"),
    ("{{ /* c */ }}", 'template: x:1: unexpected "/" in command'),
    ("{{/* c */ x}}", "template: x:1: comment ends before closing delimiter"),
    ("{{/* c", "template: x:1: unclosed comment"),
    ('{{ "abc }}', "template: x:1: unterminated quoted string"),
    ("{{ `abc }}", "template: x:1: unterminated raw quoted string"),
    ("{{ 'ab' }}", "template: x:1: invalid syntax"),
    ("{{ 3k }}", 'template: x:1: bad number syntax: "3k"'),
    ("{{ 99999999999999999999 }}", 'template: x:1: integer overflow: "99999999999999999999"'),
    ("{{ .a$ }}", "template: x:1: bad character U+0024 '$'"),
    ("{{ range $a, $b, $c := . }}{{ end }}", "template: x:1: too many declarations in range"),
    ("{{ with $a, $b := . }}{{ end }}", "template: x:1: too many declarations in with"),
    ("{{ if }}{{ end }}", "template: x:1: missing value for if"),
    ("{{ break }}", "template: x:1: {{break}} outside {{range}}"),
    ("{{ range . }}{{ continue 1 }}{{ end }}", 'template: x:1: unexpected "1" in {{continue}}'),
    ("{{ template x }}", 'template: x:1: unexpected "x" in template clause'),
    (
        '{{ define "a" }}a{{ end }}{{ define "a" }}b{{ end }}',
        'template: x:1: template: multiple definition of template "a"',
    ),
    ("{{ if 1 }}a{{ else }}b{{ else }}c{{ end }}", "template: x:1: expected end; found {{else}}"),
    ('{{ "x".y }}', 'template: x:1: unexpected . after term "\\"x\\""'),
    ("{{ $x := 1 }}{{ end }}", "template: x:1: unexpected {{end}}"),
    ("{{ if .a }}1{{ else with .b }}2{{ end }}", "template: x:1: unexpected <with> in input"),
    ("a\nb\n{{ nope }}", 'template: x:3: function "nope" not defined'),
]


@pytest.mark.parametrize(("text", "message"), ERRORS)
def test_parse_error_messages(text: str, message: str) -> None:
    with pytest.raises(TemplateError) as exc:
        parse_template(text, "x")
    assert str(exc.value) == message


@pytest.mark.parametrize(
    "text",
    [
        "plain",
        "{{/* comment */}}",
        "{{- /* trimmed comment */ -}}",
        "{{ $x := 1 }}{{ $x = 2 }}{{ $x }}",
        "{{ range $i, $e := . }}{{ $i }}{{ $e }}{{ else }}none{{ end }}",
        "{{ if .a }}1{{ else if .b }}2{{ else }}3{{ end }}",
        "{{ with .a }}1{{ else with .b }}2{{ end }}",
        '{{ block "b" . }}default{{ end }}',
        "{{ 'a' }} {{ 0x1F }} {{ 1e3 }} {{ -3 }} {{ 1_000 }} {{ `raw` }} {{ nil | print }}",
        "{{ (.a).b }}",
        '{{ .a.b.c | printf "%s" | len }}',
    ],
)
def test_valid_templates_parse(text: str) -> None:
    parse_template(text, "x")


def test_funcs_restricts_the_functions_a_template_may_call() -> None:
    parse_template('{{ join .a "," }}', "am", funcs={"join"})
    with pytest.raises(TemplateError, match='function "humanize" not defined'):
        parse_template("{{ humanize 1 }}", "am", funcs={"join"})
    # Builtins are always there.
    parse_template('{{ printf "%d" (len .) }}', "am", funcs=())
