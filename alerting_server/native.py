"""The project's compiled hot paths (native/, in Rust), called through ctypes.

`make setup` builds the library into this package (libalerting_native.so). Without it (a machine
with no Rust toolchain) every caller takes its pure-Python path, which gives the same results more
slowly: `AVAILABLE` says which. CI requires it (tests/test_native.py).
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

LIBRARY = Path(__file__).with_name("libalerting_native.so")
_OK = 0


def _load() -> ctypes.CDLL | None:
    try:
        library = ctypes.CDLL(str(LIBRARY))
        decode = library.alerting_remote_write_decode
    except (OSError, AttributeError):  # not built, or not this project's build
        return None
    size = ctypes.c_size_t
    decode.argtypes = [
        ctypes.c_char_p,
        size,
        ctypes.c_void_p,
        size,
        ctypes.c_void_p,
        ctypes.c_void_p,
        size,
        ctypes.POINTER(size),
        ctypes.POINTER(size),
    ]
    decode.restype = ctypes.c_int
    return library


def _load_gather() -> Callable[..., int] | None:
    # Through PyDLL: the call keeps the interpreter lock, so no other thread can replace or free a
    # head array while it is read.
    try:
        library = ctypes.PyDLL(str(LIBRARY))
        gather = library.alerting_window_gather
    except (OSError, AttributeError):  # not built, or built before it had the gather
        return None
    size, pointer = ctypes.c_size_t, ctypes.c_void_p
    gather.argtypes = [
        size,
        pointer,
        pointer,
        pointer,
        ctypes.c_int64,
        ctypes.c_int64,
        pointer,
        pointer,
        size,
        pointer,
    ]
    gather.restype = ctypes.c_int
    return gather


_LIBRARY = _load()
_GATHER = _load_gather()
AVAILABLE = _LIBRARY is not None
# Whether the store reads windows of heads through the library (tests turn it off to compare).
WINDOW_GATHER = _GATHER is not None


@dataclass(frozen=True)
class RemoteWriteColumns:
    """A remote-write body's float samples by series: for series i, `series[i]` is where its labels
    start in the body, their length, and the index of its first sample in `ts` and `vs`."""

    series: npt.NDArray[np.uint32]
    ts: npt.NDArray[np.int64]
    vs: npt.NDArray[np.float64]


def remote_write_columns(body: bytes) -> RemoteWriteColumns | None:
    """The columns of a decompressed prometheus.WriteRequest; None when the library is not built or
    leaves the body to the full decoder (a native histogram, labels split by samples, anything that
    does not decode)."""
    if _LIBRARY is None:
        return None
    decode = _LIBRARY.alerting_remote_write_decode
    n_series, n_samples = ctypes.c_size_t(), ctypes.c_size_t()
    # Counted first, then read into columns of the right size.
    if (
        decode(body, len(body), None, 0, None, None, 0, ctypes.byref(n_series), ctypes.byref(n_samples))
        != _OK
    ):
        return None
    series: npt.NDArray[np.uint32] = np.zeros((n_series.value, 3), dtype=np.uint32)
    ts: npt.NDArray[np.int64] = np.zeros(n_samples.value, dtype=np.int64)
    vs: npt.NDArray[np.float64] = np.zeros(n_samples.value, dtype=np.float64)
    found = decode(
        body,
        len(body),
        series.ctypes.data,
        n_series.value,
        ts.ctypes.data,
        vs.ctypes.data,
        n_samples.value,
        ctypes.byref(n_series),
        ctypes.byref(n_samples),
    )
    if found != _OK or n_series.value != len(series) or n_samples.value != len(ts):
        return None
    return RemoteWriteColumns(series, ts, vs)


def window_gather(
    heads_t: list[int], heads_v: list[int], ns: list[int], mint_ms: int, maxt_ms: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.intp]] | None:
    """The samples in [mint_ms, maxt_ms] of series i's head, whose first ns[i] timestamps and values
    are at the addresses heads_t[i] and heads_v[i], series after series: (timestamps, values,
    offsets), series i's samples at [offsets[i], offsets[i + 1]). None without the library.

    The caller keeps the arrays alive and unchanged for the call (the store's lock, or one thread)."""
    if _GATHER is None:
        return None
    count = len(ns)
    room = sum(ns)
    out_t: npt.NDArray[np.int64] = np.empty(room, dtype=np.int64)
    out_v: npt.NDArray[np.float64] = np.empty(room, dtype=np.float64)
    offsets: npt.NDArray[np.intp] = np.empty(count + 1, dtype=np.intp)
    pointers_t = np.array(heads_t, dtype=np.uintp)
    pointers_v = np.array(heads_v, dtype=np.uintp)
    lengths = np.array(ns, dtype=np.uintp)
    found = _GATHER(
        count,
        pointers_t.ctypes.data,
        pointers_v.ctypes.data,
        lengths.ctypes.data,
        mint_ms,
        maxt_ms,
        out_t.ctypes.data,
        out_v.ctypes.data,
        room,
        offsets.ctypes.data,
    )
    if found != _OK:
        return None
    total = int(offsets[-1])
    return out_t[:total], out_v[:total], offsets
