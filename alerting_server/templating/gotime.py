"""Go's time.Time and time.Duration as templates see them: String(), Format(layout) and friends."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

_NS = 1_000_000_000
_LAYOUT = re.compile(
    r"January|Jan|Monday|Mon|MST|2006|002|01|02|03|04|05|06|15|__2|_2|1|2|3|4|5|PM|pm"
    r"|-07:00:00|-070000|-07:00|-0700|-07|Z07:00:00|Z070000|Z07:00|Z0700|Z07|[.,](?:0+|9+)(?![0-9])"
)


@dataclass(frozen=True)
class GoTime:
    """An instant (Unix nanoseconds) in a location."""

    go_type_name = "*time.Time"
    unix_nano: int
    tz: dt.tzinfo = dt.UTC

    def _local(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.unix_nano // _NS, self.tz)

    # Method names are Go's: templates call them as .Format, .Unix, ...
    def Format(self, layout: str) -> str:
        t = self._local()
        ns = self.unix_nano % _NS
        offset = t.utcoffset() or dt.timedelta(0)
        off = int(offset.total_seconds())

        def zone(tok: str) -> str:
            if tok.startswith("Z") and off == 0:
                return "Z"
            sign = "-" if off < 0 else "+"
            h, rem = divmod(abs(off), 3600)
            m, s = divmod(rem, 60)
            body = tok.lstrip("Z-")
            if body == "07":
                return f"{sign}{h:02d}"
            if body == "0700":
                return f"{sign}{h:02d}{m:02d}"
            if body == "07:00":
                return f"{sign}{h:02d}:{m:02d}"
            if body == "070000":
                return f"{sign}{h:02d}{m:02d}{s:02d}"
            return f"{sign}{h:02d}:{m:02d}:{s:02d}"

        def repl(m: re.Match[str]) -> str:
            tok = m.group(0)
            hour12 = t.hour % 12 or 12
            match tok:
                case "January":
                    return t.strftime("%B")
                case "Jan":
                    return t.strftime("%b")
                case "Monday":
                    return t.strftime("%A")
                case "Mon":
                    return t.strftime("%a")
                case "MST":
                    name = t.tzname() or ""
                    return name if name and name[0].isalpha() else zone("-0700")
                case "2006":
                    return f"{t.year:04d}"
                case "06":
                    return f"{t.year % 100:02d}"
                case "01":
                    return f"{t.month:02d}"
                case "1":
                    return str(t.month)
                case "02":
                    return f"{t.day:02d}"
                case "2":
                    return str(t.day)
                case "_2":
                    return f"{t.day:>2d}"
                case "002":
                    return f"{t.timetuple().tm_yday:03d}"
                case "__2":
                    return f"{t.timetuple().tm_yday:>3d}"
                case "15":
                    return f"{t.hour:02d}"
                case "03":
                    return f"{hour12:02d}"
                case "3":
                    return str(hour12)
                case "04":
                    return f"{t.minute:02d}"
                case "4":
                    return str(t.minute)
                case "05":
                    return f"{t.second:02d}"
                case "5":
                    return str(t.second)
                case "PM":
                    return "PM" if t.hour >= 12 else "AM"
                case "pm":
                    return "pm" if t.hour >= 12 else "am"
            if tok[0] in ".,":
                digits = f"{ns:09d}"[: len(tok) - 1]
                if tok[1] == "9":
                    digits = digits.rstrip("0")
                    return tok[0] + digits if digits else ""
                return tok[0] + digits
            return zone(tok)

        return _LAYOUT.sub(repl, layout)

    def String(self) -> str:
        return self.Format("2006-01-02 15:04:05.999999999 -0700 MST")

    def Unix(self) -> int:
        return self.unix_nano // _NS

    def UnixMilli(self) -> int:
        return self.unix_nano // 1_000_000

    def UnixNano(self) -> int:
        return self.unix_nano

    def UTC(self) -> GoTime:
        return GoTime(self.unix_nano, dt.UTC)

    def In(self, location: str) -> GoTime:
        return GoTime(self.unix_nano, load_location(location))


def load_location(name: str) -> dt.tzinfo:
    """time.LoadLocation: "" and "UTC" are UTC, "Local" is the machine's zone."""
    if name in ("", "UTC"):
        return dt.UTC
    if name == "Local":
        local = dt.datetime.now().astimezone().tzinfo
        return local if local is not None else dt.UTC
    return ZoneInfo(name)


@dataclass(frozen=True)
class GoDuration:
    """time.Duration: nanoseconds, printed like Go (`1h2m3.5s`, `1.5ms`, `0s`)."""

    go_type_name = "time.Duration"
    ns: int

    def String(self) -> str:
        return format_duration(self.ns)

    def Seconds(self) -> float:
        return self.ns / _NS

    def Minutes(self) -> float:
        return self.ns / (60 * _NS)

    def Hours(self) -> float:
        return self.ns / (3600 * _NS)

    def Milliseconds(self) -> int:
        return int(self.ns / 1_000_000)


def _frac(v: int, digits: int) -> str:
    whole, rem = divmod(v, 10**digits)
    frac = f"{rem:0{digits}d}".rstrip("0")
    return f"{whole}.{frac}" if frac else str(whole)


def format_duration(ns: int) -> str:
    if ns == 0:
        return "0s"
    sign = "-" if ns < 0 else ""
    u = abs(ns)
    if u < _NS:
        if u < 1_000:
            return f"{sign}{u}ns"
        if u < 1_000_000:
            return f"{sign}{_frac(u, 3)}\u00b5s"
        return f"{sign}{_frac(u, 6)}ms"
    secs, frac_ns = divmod(u, _NS)
    hours, rem = divmod(secs, 3600)
    minutes, s = divmod(rem, 60)
    out = _frac(s * _NS + frac_ns, 9) + "s"
    if hours or minutes:
        out = f"{minutes}m" + out
    if hours:
        out = f"{hours}h" + out
    return sign + out
