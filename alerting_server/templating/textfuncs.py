"""String helpers shared by Prometheus' and Alertmanager's function maps: Go regexp and title case."""

from __future__ import annotations

import ipaddress
import re


def _compile(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as err:
        raise ValueError(f"error parsing regexp: {err}: `{pattern}`") from None


def match(pattern: str, text: str) -> bool:
    """regexp.MatchString: does `text` contain a match of `pattern` (unanchored)."""
    return _compile(pattern).search(text) is not None


_EXPAND_NAME = re.compile(r"[A-Za-z0-9_]+")


def _expand(template: str, m: re.Match[str]) -> str:
    """regexp.Expand: $1, ${1}, $name, ${name}, $$; the longest name wins ($1x is group "1x")."""
    out: list[str] = []
    i = 0
    while i < len(template):
        j = template.find("$", i)
        if j < 0:
            out.append(template[i:])
            break
        out.append(template[i:j])
        rest = template[j + 1 :]
        if rest.startswith("$"):
            out.append("$")
            i = j + 2
            continue
        if rest.startswith("{"):
            end = rest.find("}")
            name = rest[1:end] if end > 0 else ""
            consumed = end + 1
            ok = end > 0 and _EXPAND_NAME.fullmatch(name) is not None
        else:
            nm = _EXPAND_NAME.match(rest)
            name = nm.group(0) if nm else ""
            consumed = len(name)
            ok = nm is not None
        if not ok:
            out.append("$")
            i = j + 1
            continue
        i = j + 1 + consumed
        group: str | None = None
        if name.isdigit():
            num = int(name)
            if num <= (m.re.groups or 0):
                group = m.group(num)
        elif name in m.re.groupindex:
            group = m.group(name)
        out.append(group or "")
    return "".join(out)


def re_replace_all(pattern: str, repl: str, text: str) -> str:
    """Regexp.ReplaceAllString with Go's $-expansion."""
    return _compile(pattern).sub(lambda m: _expand(repl, m), text)


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch in "_'\u2019"


def title(text: str, lower_rest: bool) -> str:
    """golang.org/x/text/cases Title: upper-case each word's first letter (lower the rest unless NoLower)."""
    out: list[str] = []
    in_word = False
    for i, ch in enumerate(text):
        joiner = ch in ".:" and in_word and i + 1 < len(text) and text[i + 1].isalpha()
        if _is_word_char(ch) or joiner:
            out.append((ch.lower() if lower_rest else ch) if in_word else ch.upper())
            in_word = True
        else:
            out.append(ch)
            in_word = False
    return "".join(out)


class AddrError(ValueError):
    pass


def split_host_port(hostport: str) -> tuple[str, str]:
    """net.SplitHostPort."""
    i = hostport.rfind(":")
    if i < 0:
        raise AddrError("missing port in address")
    j = k = 0
    if hostport.startswith("["):
        end = hostport.find("]")
        if end < 0:
            raise AddrError("missing ']' in address")
        if end + 1 == len(hostport):
            raise AddrError("missing port in address")
        if end + 1 != i:
            raise AddrError("too many colons in address" if hostport[end + 1] == ":" else "missing port")
        host = hostport[1:end]
        j, k = 1, end + 1
    else:
        host = hostport[:i]
        if ":" in host:
            raise AddrError("too many colons in address")
    if "[" in hostport[j:]:
        raise AddrError("unexpected '[' in address")
    if "]" in hostport[k:]:
        raise AddrError("unexpected ']' in address")
    return host, hostport[i + 1 :]


def join_host_port(host: str, port: str) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def strip_port(hostport: str) -> str:
    try:
        return split_host_port(hostport)[0]
    except AddrError:
        return hostport


def strip_domain(hostport: str) -> str:
    try:
        host, port = split_host_port(hostport)
    except AddrError:
        host, port = hostport, ""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return hostport
    host = host.split(".")[0]
    return join_host_port(host, port) if port else host
