"""Execution semantics of Go's text/template (cases adapted from Go's exec_test.go)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from alerting_server.templating import StrMap, TemplateError, parse_template


@dataclass
class Inner:
    Name: str = "inner"

    def Greet(self, who: str) -> str:  # a Go method name: templates call .Greet
        return "hello " + who


@dataclass
class Data:
    Int: int = 17
    F: float = 85.5
    S: str = "xyz"
    B: bool = True
    Empty: str = ""
    SI: list[int] = field(default_factory=lambda: [3, 4, 5])
    SS: list[str] = field(default_factory=lambda: ["a", "b"])
    MSI: dict[str, int] = field(default_factory=lambda: {"one": 1, "two": 2, "three": 3})
    Labels: StrMap = field(default_factory=lambda: StrMap({"host": "server01"}))
    Nested: Inner = field(default_factory=Inner)
    Nil: object = None
    Fn: Callable[[str], str] = lambda s: "fn " + s


def run(text: str, data: object = None) -> str:
    return parse_template(text, "x").execute(Data() if data is None else data)


CASES = [
    # text, trim markers, comments
    ("empty", "", ""),
    ("text", "some text", "some text"),
    ("trim", "a  {{- 1 -}}  b", "a1b"),
    ("trim newline", "a\n{{- /* c */ -}}\nb", "ab"),
    ("minus number", "{{-3}}", "-3"),
    # fields, maps, variables
    ("field", "{{.Int}} {{.S}} {{.F}}", "17 xyz 85.5"),
    ("map key", "{{.MSI.two}}", "2"),
    ("missing key of interface map", "{{.MSI.nope}}", "<no value>"),
    ("missing key of string map", "[{{.Labels.nope}}]", "[]"),
    ("label", "{{.Labels.host}}", "server01"),
    ("nested", "{{.Nested.Name}}", "inner"),
    ("method", '{{.Nested.Greet "you"}}', "hello you"),
    ("method piped", '{{"me" | .Nested.Greet}}', "hello me"),
    ("root", "{{with .Nested}}{{$.S}}{{.Name}}{{end}}", "xyzinner"),
    ("declare", "{{$x := .Int}}{{$x}}", "17"),
    ("assign", "{{$x := 1}}{{if true}}{{$x = 2}}{{end}}{{$x}}", "2"),
    ("variable field", "{{$l := .Labels}}{{$l.host}}", "server01"),
    ("parenthesized", "{{(.Nested).Name}}", "inner"),
    # printing
    ("float 1e6", "{{1e6}}", "1e+06"),
    ("float", "{{85.5}} {{100000.0}} {{0.1}}", "85.5 100000 0.1"),
    ("bool", "{{true}} {{false}}", "true false"),
    ("slice", "{{.SI}} {{.SS}}", "[3 4 5] [a b]"),
    ("map", "{{.MSI}}", "map[one:1 three:3 two:2]"),
    ("char", "{{'a'}}", "97"),
    ("hex", "{{0x1F}}", "31"),
    ("raw string", "{{`a\\nb`}}", "a\\nb"),
    # if / with / range
    ("if true", "{{if .B}}yes{{end}}", "yes"),
    ("if empty", "{{if .Empty}}yes{{else}}no{{end}}", "no"),
    ("if zero", "{{if 0}}yes{{else}}no{{end}}", "no"),
    ("if nil", "{{if .Nil}}yes{{else}}no{{end}}", "no"),
    ("if empty slice", "{{if .Nested.Name}}{{if slice .SI 0 0}}y{{else}}n{{end}}{{end}}", "n"),
    ("else if", "{{if false}}a{{else if .Int}}b{{else}}c{{end}}", "b"),
    ("with", "{{with .S}}{{.}}{{end}}", "xyz"),
    ("with else", "{{with .Empty}}{{.}}{{else}}none{{end}}", "none"),
    ("with else with", "{{with .Empty}}a{{else with .S}}{{.}}{{end}}", "xyz"),
    ("range slice", "{{range .SI}}<{{.}}>{{end}}", "<3><4><5>"),
    ("range index", "{{range $i, $e := .SI}}{{$i}}={{$e}} {{end}}", "0=3 1=4 2=5 "),
    ("range map sorted", "{{range $k, $v := .MSI}}{{$k}}={{$v}} {{end}}", "one=1 three=3 two=2 "),
    ("range single var", "{{range $e := .SS}}{{$e}}{{end}}", "ab"),
    ("range empty else", "{{range slice .SI 0 0}}x{{else}}empty{{end}}", "empty"),
    ("range nil else", "{{range .Nil}}x{{else}}empty{{end}}", "empty"),
    ("range int", "{{range 3}}{{.}}{{end}}", "012"),
    ("range break", "{{range .SI}}{{if eq . 4}}{{break}}{{end}}{{.}}{{end}}", "3"),
    ("range continue", "{{range .SI}}{{if eq . 4}}{{continue}}{{end}}{{.}}{{end}}", "35"),
    ("range assign", "{{$i := 0}}{{$e := 0}}{{range $i, $e = .SI}}{{end}}{{$i}} {{$e}}", "2 5"),
    # templates
    ("define", '{{define "t"}}[{{.}}]{{end}}{{template "t" .S}}', "[xyz]"),
    ("template no data", '{{define "t"}}{{.}}{{end}}{{template "t"}}', "<no value>"),
    ("block", '{{block "b" .Int}}({{.}}){{end}}', "(17)"),
    # builtins
    ("and", "{{and 1 0 2}} {{and 1 2}}", "0 2"),
    ("or", '{{or 0 "" "x"}} {{or 0 ""}}', "x "),
    ("not", "{{not 0}} {{not .S}}", "true false"),
    ("and short-circuits", "{{and false (index .SI 10)}}", "false"),
    ("eq", '{{eq 1 1}} {{eq "a" "b"}} {{eq .Int 1 2 17}}', "true false true"),
    (
        "ne lt le gt ge",
        "{{ne 1 2}} {{lt 1 2}} {{le 2 2}} {{gt 1.5 2.5}} {{ge .F 80.0}}",
        "true true true false true",
    ),
    ("len", '{{len .SI}} {{len .S}} {{len .MSI}} {{len "é"}}', "3 3 3 2"),
    (
        "index",
        '{{index .SI 1}} {{index .MSI "two"}} {{index .Labels "host"}} {{index .Labels "x"}}',
        "4 2 server01 ",
    ),
    ("index string", '{{index "abc" 1}}', "98"),
    ("slice", '{{slice .SI 1}} {{slice .SI 1 2}} {{slice "abcd" 1 3}}', "[4 5] [4] bc"),
    ("print", '{{print 1 2 "a" "b" 3}}', "1 2ab3"),
    ("println", "{{println 1 2}}", "1 2\n"),
    (
        "printf",
        '{{printf "%d %s %.2f %5.1f|%-3d|%03d %x %q %t %v %%" 7 "s" 3.14159 2.5 1 5 255 "q" true .SI}}',
        '7 s 3.14   2.5|1  |005 ff "q" true [3 4 5] %',
    ),
    ("printf errors", '{{printf "%d %s" "x"}}', "%!d(string=x) %!s(MISSING)"),
    ("printf extra", '{{printf "a" 1}}', "a%!(EXTRA int=1)"),
    ("html", '{{html "<a href=\\"x\\">&\'"}}', "&lt;a href=&#34;x&#34;&gt;&amp;&#39;"),
    ("js", '{{js "a\'b\\"<>&="}}', "a\\'b\\\"\\u003C\\u003E\\u0026\\u003D"),
    ("urlquery", '{{urlquery "a b&c=d/é"}}', "a+b%26c%3Dd%2F%C3%A9"),
    ("pipeline", '{{.S | printf "%s!" | printf "<%s>"}}', "<xyz!>"),
    ("call", '{{call .Fn "x"}}', "fn x"),
]


@pytest.mark.parametrize(("name", "text", "want"), CASES, ids=[c[0] for c in CASES])
def test_exec(name: str, text: str, want: str) -> None:
    assert run(text) == want


EXEC_ERRORS = [
    ("{{.Nope}}", 'template: x:1:2: executing "x" at <.Nope>: can\'t evaluate field Nope in type Data'),
    (
        "{{index .SI 10}}",
        'template: x:1:2: executing "x" at <index .SI 10>: error calling index: index out of range: 10',
    ),
    (
        "{{eq .Int 1.5}}",
        'template: x:1:2: executing "x" at <eq .Int 1.5>: '
        "error calling eq: incompatible types for comparison",
    ),
    (
        "{{lt .B true}}",
        'template: x:1:2: executing "x" at <lt .B true>: error calling lt: invalid type for comparison',
    ),
    ("{{nil}}", 'template: x:1:2: executing "x" at <nil>: nil is not a command'),
    ("{{.S 1}}", 'template: x:1:2: executing "x" at <.S>: S has arguments but cannot be invoked as function'),
    (
        '{{template "nope"}}',
        'template: x:1:11: executing "x" at <{{template "nope"}}>: no such template "nope"',
    ),
    ("{{range .S}}{{end}}", 'template: x:1:8: executing "x" at <.S>: range can\'t iterate over xyz'),
    (
        "{{call .Nested.Greet 1}}",
        'template: x:1:14: executing "x" at <.Nested.Greet>: wrong number of args for Greet: want 1 got 0',
    ),
    ("{{len 3}}", 'template: x:1:2: executing "x" at <len 3>: error calling len: len of type int'),
    ("{{range .Int}}{{end}}", ""),
    ("\n {{toUpper 3}}", 'template: x:2:11: executing "x" at <3>: expected string; found 3'),
    (
        "{{.Int | toUpper}}",
        'template: x:1:9: executing "x" at <toUpper>: wrong type for value; expected string; got int',
    ),
    (
        "{{humanize}}",
        'template: x:1:2: executing "x" at <humanize>: wrong number of args for humanize: want 1 got 0',
    ),
]


@pytest.mark.parametrize(("text", "message"), EXEC_ERRORS)
def test_exec_errors(text: str, message: str) -> None:
    if not message:  # ranging over an int is Go 1.22+, so it is not an error
        assert run(text) == ""
        return
    with pytest.raises(TemplateError) as exc:
        run(text)
    assert str(exc.value) == message


class _Labels(dict[str, str]):
    """A map type with Go methods, as Alertmanager's template.KV."""

    go_methods = frozenset({"Names"})

    def Names(self) -> list[str]:
        return sorted(self)

    def Hidden(self) -> str:
        return "not a declared Go method"


class _Items(list[str]):
    go_methods = frozenset({"First"})

    def First(self) -> str:
        return self[0]


def test_declared_go_methods_come_before_map_keys_and_work_on_lists() -> None:
    labels = _Labels(Names="a key named like the method", b="2")
    assert run("{{.Names}}", labels) == "[Names b]"
    assert run("{{.b}}", labels) == "2"
    assert run("{{.Hidden}}", labels) == "<no value>"  # Not declared: a missing map key, as in Go.
    assert run("{{.First}}", _Items(["x", "y"])) == "x"
    with pytest.raises(TemplateError, match="can't evaluate field Last"):
        run("{{.Last}}", _Items(["x"]))
