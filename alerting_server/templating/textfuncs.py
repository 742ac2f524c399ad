"""String helpers shared by Prometheus' and Alertmanager's function maps: Go regexp and title case."""

from __future__ import annotations

import ipaddress

from alerting_common.regexp import Regexp, RegexpError
from alerting_common.regexp import compile as compile_regexp


def _compile(pattern: str) -> Regexp:
    try:
        return compile_regexp(pattern)
    except RegexpError as err:
        raise ValueError(str(err)) from None


def match(pattern: str, text: str) -> bool:
    """regexp.MatchString: does `text` contain a match of `pattern` (unanchored)."""
    return _compile(pattern).search(text)


def re_replace_all(pattern: str, repl: str, text: str) -> str:
    """Regexp.ReplaceAllString with Go's $-expansion."""
    return _compile(pattern).replace_all(text, repl)


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
