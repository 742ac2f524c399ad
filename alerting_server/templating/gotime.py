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


_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_PARSE_PATTERNS = {
    "January": "(?P<month_name>" + "|".join(_MONTHS) + ")",
    "Jan": "(?P<month_abbr>" + "|".join(m[:3] for m in _MONTHS) + ")",
    "Monday": "(?:" + "|".join(_DAYS) + ")",
    "Mon": "(?:" + "|".join(d[:3] for d in _DAYS) + ")",
    "MST": "(?P<zone_name>[A-Z]{3,5}|[+-][0-9]{2}(?:[0-9]{2})?)",
    "2006": "(?P<year>[0-9]{4})",
    "06": "(?P<year2>[0-9]{2})",
    "01": "(?P<month>[0-9]{2})",
    "1": "(?P<month>[0-9]{1,2})",
    "02": "(?P<day>[0-9]{2})",
    "2": "(?P<day>[0-9]{1,2})",
    "_2": "(?P<day> ?[0-9]{1,2})",
    "002": "(?P<yday>[0-9]{3})",
    "__2": "(?P<yday> {0,2}[0-9]{1,3})",
    "15": "(?P<hour>[0-9]{1,2})",
    "03": "(?P<hour12>[0-9]{2})",
    "3": "(?P<hour12>[0-9]{1,2})",
    "04": "(?P<minute>[0-9]{2})",
    "4": "(?P<minute>[0-9]{1,2})",
    "05": "(?P<second>[0-9]{2})",
    "5": "(?P<second>[0-9]{1,2})",
    "PM": "(?P<ampm>AM|PM)",
    "pm": "(?P<ampm>am|pm)",
}


def parse_time(layout: str, value: str) -> GoTime:
    """time.ParseInLocation(layout, value, time.UTC) for the layout elements Format knows; raises
    ValueError. As Go, a fractional second may follow the seconds even where the layout has none."""
    parts: list[str] = []
    pos = 0
    seen: set[str] = set()
    for m in _LAYOUT.finditer(layout):
        parts.append(re.escape(layout[pos : m.start()]))
        tok = m.group(0)
        if tok in _PARSE_PATTERNS:
            pattern = _PARSE_PATTERNS[tok]
            group = re.search(r"\?P<(\w+)>", pattern)
            if group is not None and group.group(1) in seen:
                # A field given twice: Go checks they agree; here the second is matched, not kept.
                pattern = pattern.replace(f"?P<{group.group(1)}>", "?:")
            elif group is not None:
                seen.add(group.group(1))
            if tok in ("05", "5"):
                pattern += r"(?P<frac_auto>[.,][0-9]+)?"
            parts.append(pattern)
        elif tok[0] in ".,":
            digits = len(tok) - 1
            parts.append(rf"(?P<frac>[.,][0-9]{{{digits}}})" if tok[1] == "0" else r"(?P<frac>[.,][0-9]+)?")
        else:
            # A numeric zone, "Z" standing for UTC where the layout says so.
            body = tok.lstrip("Z-")
            sign = "Z|" if tok.startswith("Z") else ""
            number = {
                "07": "[+-][0-9]{2}",
                "0700": "[+-][0-9]{4}",
                "07:00": "[+-][0-9]{2}:[0-9]{2}",
                "070000": "[+-][0-9]{6}",
                "07:00:00": "[+-][0-9]{2}:[0-9]{2}:[0-9]{2}",
            }[body]
            parts.append(f"(?P<offset>{sign}{number})")
        pos = m.end()
    parts.append(re.escape(layout[pos:]))
    match = re.fullmatch("".join(parts), value)
    if match is None:
        raise ValueError(f'parsing time "{value}" as "{layout}": cannot parse')
    g = {k: v for k, v in match.groupdict().items() if v is not None}
    year = int(g["year"]) if "year" in g else 0
    if "year2" in g:
        y = int(g["year2"])
        year = y + (1900 if y >= 69 else 2000)
    if "month" in g:
        month = int(g["month"])
    elif "month_name" in g:
        month = _MONTHS.index(g["month_name"]) + 1
    elif "month_abbr" in g:
        month = [m[:3] for m in _MONTHS].index(g["month_abbr"]) + 1
    else:
        month = 1
    day = int(g.get("day", "1").strip())
    hour = int(g.get("hour", "0"))
    if "hour12" in g:
        hour = int(g["hour12"])
        if not 1 <= hour <= 12:
            raise ValueError(f'parsing time "{value}": hour out of range')
        pm = g.get("ampm", "").lower() == "pm"
        hour = hour % 12 + (12 if pm else 0)
    minute, second = int(g.get("minute", "0")), int(g.get("second", "0"))
    frac = g.get("frac") or g.get("frac_auto") or ""
    nanos = int((frac[1:] + "000000000")[:9]) if frac else 0
    offset = 0
    if g.get("offset") and g["offset"] != "Z":
        raw = g["offset"].replace(":", "")
        direction = -1 if raw[0] == "-" else 1
        hhmmss = raw[1:] + "0000"
        offset = direction * (int(hhmmss[:2]) * 3600 + int(hhmmss[2:4]) * 60 + int(hhmmss[4:6] or "0"))
    try:
        if "yday" in g and "month" not in g and "month_name" not in g and "month_abbr" not in g:
            base = dt.datetime(year, 1, 1, hour, minute, second) + dt.timedelta(days=int(g["yday"]) - 1)
        else:
            base = dt.datetime(year or 1, month, day, hour, minute, second)
    except ValueError as e:
        raise ValueError(f'parsing time "{value}": {e}') from None
    if year == 0 and "yday" not in g:
        # Go's year 0 is not Python's: count from year 1 and step back one (proleptic) year.
        base = base.replace(year=1)
        seconds = int((base - dt.datetime(1970, 1, 1)).total_seconds()) - 366 * 86400
    else:
        seconds = int((base - dt.datetime(1970, 1, 1)).total_seconds())
    tz: dt.tzinfo = dt.UTC if offset == 0 else dt.timezone(dt.timedelta(seconds=offset))
    return GoTime((seconds - offset) * _NS + nanos, tz)
