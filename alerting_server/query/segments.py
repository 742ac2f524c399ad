"""Searching many sorted series at once: their samples concatenated, series i at offsets[i]:offsets[i+1].

Each series is sorted by time and the series follow one another, so the key
`series * width + (t - base)` is sorted across the whole array and one searchsorted answers
the question for every series and step together.
"""

from __future__ import annotations

import itertools

import numpy as np
import numpy.typing as npt

from alerting_server.query.storage import Timestamps

Index = npt.NDArray[np.intp]
_KEY_LIMIT = 2**62


def search(
    timestamps: Timestamps, offsets: Index, at: Timestamps, side: str = "right"
) -> npt.NDArray[np.intp]:
    """Per series i and step j, searchsorted(series i's timestamps, at[j], side) as a flat index.

    `at` is one time per step (shape n); the result has shape (series, n).
    """
    k = len(offsets) - 1
    lengths = np.diff(offsets)
    if k == 0 or not len(timestamps):
        return np.broadcast_to(offsets[:-1, None], (k, len(at))).copy()
    base = min(int(timestamps.min()), int(at.min())) - 1
    width = max(int(timestamps.max()), int(at.max())) - base + 2
    if k * width >= _KEY_LIMIT:
        return _search_each(timestamps, offsets, at, side)
    owner = np.repeat(np.arange(k, dtype=np.int64), lengths)
    keys = owner * width + (timestamps - base)
    wanted = np.arange(k, dtype=np.int64)[:, None] * width + (at - base)[None, :]
    found: npt.NDArray[np.intp] = np.searchsorted(keys, wanted, side)  # type: ignore[call-overload]
    return found


def _search_each(timestamps: Timestamps, offsets: Index, at: Timestamps, side: str) -> Index:
    out = np.empty((len(offsets) - 1, len(at)), dtype=np.intp)
    bounds = offsets.tolist()
    for i, (a, b) in enumerate(itertools.pairwise(bounds)):
        out[i] = a + np.searchsorted(timestamps[a:b], at, side)  # type: ignore[call-overload]
    return out
