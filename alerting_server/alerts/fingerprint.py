"""Alert identity: Prometheus' label-set fingerprint, so ours equal the ones Alertmanager and amtool print.

The algorithm is `model.LabelSet.Fingerprint` of prometheus/common: 64-bit FNV-1a over the
label names in byte order, each name and value followed by the separator byte 0xff, all
UTF-8; printed as 16 lower-case hex digits. It depends on nothing but the labels, so it is
stable across processes, machines and versions (unlike Python's `hash`).
"""

from __future__ import annotations

from collections.abc import Mapping

_OFFSET64 = 14695981039346656037
_PRIME64 = 1099511628211
_MASK64 = (1 << 64) - 1
_SEPARATOR = 0xFF


def fingerprint_int(labels: Mapping[str, str]) -> int:
    h = _OFFSET64
    # Go sorts label names as byte strings; sorting the UTF-8 encodings gives the same order.
    for name, value in sorted((n.encode(), v.encode()) for n, v in labels.items()):
        for part in (name, value):
            for byte in part:
                h = ((h ^ byte) * _PRIME64) & _MASK64
            h = ((h ^ _SEPARATOR) * _PRIME64) & _MASK64
    return h


def fingerprint(labels: Mapping[str, str]) -> str:
    """16 hex digits identifying the label set: same labels, same fingerprint, in any order."""
    return f"{fingerprint_int(labels):016x}"
