"""html/template's contextual escaping, as Alertmanager renders an email's `html` (outputs as Go 1.19's
html/template gives them for the same template and data)."""

from __future__ import annotations

import pytest

from alerting_server.templating import (
    ALERTMANAGER_FUNCTIONS,
    TemplateError,
    alertmanager_functions,
    parse_template,
)


def html(text: str, data: object = None) -> str:
    tmpl = parse_template(text, "h", funcs=ALERTMANAGER_FUNCTIONS)
    return tmpl.execute(data, alertmanager_functions(now_ms=0), html=True)


V = "a&b <i>'x'+\"y\""


@pytest.mark.parametrize(
    ("text", "want"),
    [
        # Text: htmlEscaper.
        ("<p>{{ . }}</p>", "<p>a&amp;b &lt;i&gt;&#39;x&#39;&#43;&#34;y&#34;</p>"),
        # RCDATA (<title>): the same escapes.
        ("<title>{{ . }}</title>", "<title>a&amp;b &lt;i&gt;&#39;x&#39;&#43;&#34;y&#34;</title>"),
        # A quoted attribute that is not a URL: attrEscaper.
        ('<td class="{{ . }}">', '<td class="a&amp;b &lt;i&gt;&#39;x&#39;&#43;&#34;y&#34;">'),
        # An unquoted one: whitespace and '=' escaped too.
        ("<td class={{ . }}>", "<td class=a&amp;b&#32;&lt;i&gt;&#39;x&#39;&#43;&#34;y&#34;>"),
        # A URL at the start of href: filtered, normalized, attribute-escaped.
        ('<a href="{{ . }}">', '<a href="a&amp;b%20%3ci%3e%27x%27&#43;%22y%22">'),
        # In the query: urlEscaper (reserved characters escaped too).
        ('<a href="/s?q={{ . }}">', '<a href="/s?q=a%26b%20%3ci%3e%27x%27%2b%22y%22">'),
        # A pipeline ending in urlquery: urlquery stands in for the URL escaper, then attrEscaper.
        ('<a href="/s?q={{ . | urlquery }}">', '<a href="/s?q=a%26b&#43;%3Ci%3E%27x%27%2B%22y%22">'),
        # ... and html for the HTML escaper.
        ("<p>{{ . | html }}</p>", "<p>a&amp;b &lt;i&gt;&#39;x&#39;+&#34;y&#34;</p>"),
        # Comments of the template are dropped; the text around them stays.
        ("a<!-- {{ . }} -->b\n<!--\nlicence\n-->\nc", "ab\n\nc"),
    ],
)
def test_each_context_escapes_as_html_template(text: str, want: str) -> None:
    assert html(text, V) == want


@pytest.mark.parametrize(
    ("url", "want"),
    [
        ("https://ex.com/a b?x=1&y=%41", "https://ex.com/a%20b?x=1&amp;y=%41"),
        ("javascript:alert(1)", "#ZgotmplZ"),
        ("MAILTO:a@b", "MAILTO:a@b"),
        ("/relative/päth", "/relative/p%c3%a4th"),
        ("100%", "100%25"),
    ],
)
def test_urls_at_the_start_of_an_attribute(url: str, want: str) -> None:
    assert html('<a href="{{ . }}">', url) == f'<a href="{want}">'


def test_safe_html_is_not_escaped_in_text_and_safe_url_not_filtered() -> None:
    assert html("<p>{{ safeHtml . }}</p>", "<b>x</b>") == "<p><b>x</b></p>"
    assert html('<a href="{{ safeUrl . }}">', "tel:123") == '<a href="tel:123">'
    # In an attribute, trusted HTML loses its tags.
    assert html('<a title="{{ safeHtml . }}">', "<b>x</b>") == '<a title="x">'


def test_templates_called_are_escaped_in_the_context_of_the_call() -> None:
    text = (
        '{{ define "v" }}{{ . }}{{ end }}<title>{{ template "v" . }}</title><a href="{{ template "v" . }}">'
    )
    assert html(text, "a b&") == '<title>a b&amp;</title><a href="a%20b&amp;">'


def test_the_same_template_as_text_is_not_escaped() -> None:
    tmpl = parse_template("<p>{{ . }}</p>", "t", funcs=ALERTMANAGER_FUNCTIONS)
    assert tmpl.execute(V, alertmanager_functions(now_ms=0)) == f"<p>{V}</p>"


@pytest.mark.parametrize(
    "text",
    ["<script>var x = {{ . }}</script>", "<style>p { color: {{ . }} }</style>", '<a onclick="{{ . }}">'],
)
def test_actions_needing_js_or_css_escaping_fail(text: str) -> None:
    with pytest.raises(TemplateError, match="not supported"):
        html(text, "x")


def test_text_after_a_script_element_is_escaped_again() -> None:
    assert html("<script>var a = 1;</script><p>{{ . }}</p>", "<") == "<script>var a = 1;</script><p>&lt;</p>"


def test_a_missing_value_prints_as_nothing() -> None:
    assert html("<p>{{ .missing }}</p>", {}) == "<p></p>"
