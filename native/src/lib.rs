//! The alerting server's compiled hot paths, called through ctypes (alerting_server/native).
//!
//! `alerting_remote_write_decode` reads a decompressed Prometheus remote-write 1.0 body (a
//! `prometheus.WriteRequest`) into columns: for each series the place of its labels in the body,
//! and the value and timestamp of each of its float samples. It reads what Prometheus sends and
//! nothing more: a body with a native histogram, labels split by samples, a field of an unexpected
//! wire type, or anything that does not decode is left to the full protobuf decoder (FALLBACK),
//! which decides what it means and words the error. Safe Rust throughout, every read bounds-checked:
//! a hostile body can only be refused, never read past.
//!
//! `alerting_window_gather` copies the samples of many series' head arrays that lie in a window
//! into two flat columns, with where each series' samples start: what a rule's range selector
//! reads from the embedded store, without a numpy slice per series.

use std::panic;

/// The columns were written (or, without room for them, counted).
pub const OK: i32 = 0;
/// Left to the full decoder: histograms, split labels, unexpected wire types, malformed input.
pub const FALLBACK: i32 = 1;

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    end: usize,
}

impl<'a> Reader<'a> {
    fn varint(&mut self) -> Option<u64> {
        let mut value: u64 = 0;
        let mut shift: u32 = 0;
        loop {
            if self.pos >= self.end {
                return None;
            }
            let byte = self.buf[self.pos];
            self.pos += 1;
            if shift == 63 && byte > 1 {
                return None;
            }
            value |= u64::from(byte & 0x7f) << shift;
            if byte < 0x80 {
                return Some(value);
            }
            shift += 7;
            if shift > 63 {
                return None;
            }
        }
    }

    /// The end of a length-delimited field whose length comes next.
    fn delimited(&mut self) -> Option<usize> {
        let len = usize::try_from(self.varint()?).ok()?;
        let end = self.pos.checked_add(len)?;
        if end > self.end {
            return None;
        }
        Some(end)
    }

    fn fixed64(&mut self) -> Option<[u8; 8]> {
        let end = self.pos.checked_add(8)?;
        if end > self.end {
            return None;
        }
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(&self.buf[self.pos..end]);
        self.pos = end;
        Some(bytes)
    }

    /// Passes over a field this reader does not use; None for a group or an unknown wire type.
    fn skip(&mut self, wire: u64) -> Option<()> {
        match wire {
            0 => {
                self.varint()?;
            }
            1 => {
                self.fixed64()?;
            }
            2 => {
                self.pos = self.delimited()?;
            }
            5 => {
                let end = self.pos.checked_add(4)?;
                if end > self.end {
                    return None;
                }
                self.pos = end;
            }
            _ => return None,
        }
        Some(())
    }

    /// A field's number and wire type; None for a tag no message has: above 32 bits, or a field
    /// number of 0 or past the largest (2^29 - 1).
    fn tag(&mut self) -> Option<(u64, u64)> {
        let tag = self.varint()?;
        let field = tag >> 3;
        if tag > u64::from(u32::MAX) || field == 0 || field > (1 << 29) - 1 {
            return None;
        }
        Some((field, tag & 7))
    }
}

/// Where the columns go; with no room, they are only counted.
struct Columns<'a> {
    series: &'a mut [u32],
    ts: &'a mut [i64],
    vs: &'a mut [f64],
    n_series: usize,
    n_samples: usize,
}

impl Columns<'_> {
    fn sample(&mut self, t: i64, v: f64) {
        if self.n_samples < self.ts.len() {
            self.ts[self.n_samples] = t;
            self.vs[self.n_samples] = v;
        }
        self.n_samples += 1;
    }

    /// A series whose labels lie at [labels_start, labels_end) and whose samples begin at `first`.
    fn series(&mut self, labels_start: usize, labels_end: usize, first: usize) -> Option<()> {
        let base = self.n_series.checked_mul(3)?;
        if base + 3 <= self.series.len() {
            self.series[base] = u32::try_from(labels_start).ok()?;
            self.series[base + 1] = u32::try_from(labels_end - labels_start).ok()?;
            self.series[base + 2] = u32::try_from(first).ok()?;
        }
        self.n_series += 1;
        Some(())
    }
}

/// A prometheus.Sample: value (1, double) and timestamp (2, int64); absent fields are 0.
fn sample(reader: &mut Reader, end: usize) -> Option<(i64, f64)> {
    let mut inner = Reader {
        buf: reader.buf,
        pos: reader.pos,
        end,
    };
    let (mut t, mut v) = (0i64, 0f64);
    while inner.pos < end {
        match inner.tag()? {
            (1, 1) => v = f64::from_le_bytes(inner.fixed64()?),
            (2, 0) => t = inner.varint()? as i64,
            (1, _) | (2, _) => return None,
            (_, wire) => inner.skip(wire)?,
        }
    }
    reader.pos = end;
    Some((t, v))
}

/// A prometheus.TimeSeries: its labels (1) one run of fields, its samples (2); histograms (4) are
/// left to the full decoder.
fn series(reader: &mut Reader, end: usize, out: &mut Columns) -> Option<()> {
    let mut inner = Reader {
        buf: reader.buf,
        pos: reader.pos,
        end,
    };
    let first = out.n_samples;
    let mut labels: Option<(usize, usize)> = None;
    while inner.pos < end {
        let field_start = inner.pos;
        match inner.tag()? {
            (1, 2) => {
                let label_end = inner.delimited()?;
                labels = match labels {
                    None => Some((field_start, label_end)),
                    Some((start, previous_end)) if previous_end == field_start => {
                        Some((start, label_end))
                    }
                    Some(_) => return None,
                };
                inner.pos = label_end;
            }
            (2, 2) => {
                let sample_end = inner.delimited()?;
                let (t, v) = sample(&mut inner, sample_end)?;
                out.sample(t, v);
            }
            (1, _) | (2, _) | (4, _) => return None,
            (_, wire) => inner.skip(wire)?,
        }
    }
    reader.pos = end;
    let (start, stop) = labels.unwrap_or((end, end));
    out.series(start, stop, first)
}

fn write_request(buf: &[u8], out: &mut Columns) -> Option<()> {
    if u32::try_from(buf.len()).is_err() {
        return None;
    }
    let mut reader = Reader {
        buf,
        pos: 0,
        end: buf.len(),
    };
    while reader.pos < reader.end {
        match reader.tag()? {
            (1, 2) => {
                let end = reader.delimited()?;
                series(&mut reader, end, out)?;
            }
            (1, _) => return None,
            (_, wire) => reader.skip(wire)?,
        }
    }
    Some(())
}

/// `len` values at `ptr`, or an empty slice (`ptr` not read, null or not) when `len` is 0.
///
/// # Safety
/// With `len` above 0, `ptr` points to `len` readable values that outlive `'a` and that nothing
/// writes meanwhile.
unsafe fn slice_of<'a, T>(ptr: *const T, len: usize) -> &'a [T] {
    if len == 0 {
        &[]
    } else {
        std::slice::from_raw_parts(ptr, len)
    }
}

/// As `slice_of`, for values the caller gives to be written.
///
/// # Safety
/// With `len` above 0, `ptr` points to `len` writable values that outlive `'a` and that nothing
/// else reads or writes meanwhile.
unsafe fn slice_of_mut<'a, T>(ptr: *mut T, len: usize) -> &'a mut [T] {
    if len == 0 {
        &mut []
    } else {
        std::slice::from_raw_parts_mut(ptr, len)
    }
}

/// Reads the body's `len` bytes at `body` into the columns: for series i, `series[3i]` is where its
/// labels start in the body, `series[3i+1]` their length, `series[3i+2]` the index of its first
/// sample; `ts` and `vs` hold every float sample in order. Writes only where there is room
/// (`series_room` series, `sample_room` samples; null pointers with no room count), and always sets
/// `n_series` and `n_samples` to what the body holds. Returns OK or FALLBACK.
///
/// # Safety
/// `body` points to `len` readable bytes; `series` to `3 * series_room` u32s, `ts` and `vs` to
/// `sample_room` values each, or are null with no room; `n_series` and `n_samples` are writable.
#[no_mangle]
pub unsafe extern "C" fn alerting_remote_write_decode(
    body: *const u8,
    len: usize,
    series: *mut u32,
    series_room: usize,
    ts: *mut i64,
    vs: *mut f64,
    sample_room: usize,
    n_series: *mut usize,
    n_samples: *mut usize,
) -> i32 {
    if body.is_null() || n_series.is_null() || n_samples.is_null() {
        return FALLBACK;
    }
    if (series_room > 0 && series.is_null()) || (sample_room > 0 && (ts.is_null() || vs.is_null()))
    {
        return FALLBACK;
    }
    let buf = std::slice::from_raw_parts(body, len);
    let series_out = slice_of_mut(series, series_room * 3);
    let ts_out = slice_of_mut(ts, sample_room);
    let vs_out = slice_of_mut(vs, sample_room);
    let result = panic::catch_unwind(panic::AssertUnwindSafe(|| {
        let mut out = Columns {
            series: series_out,
            ts: ts_out,
            vs: vs_out,
            n_series: 0,
            n_samples: 0,
        };
        let read = write_request(buf, &mut out);
        (read, out.n_series, out.n_samples)
    }));
    match result {
        Ok((Some(()), found_series, found_samples)) => {
            *n_series = found_series;
            *n_samples = found_samples;
            OK
        }
        _ => FALLBACK,
    }
}

/// Copies, for each of `count` series, the samples of its head arrays that lie in `[mint, maxt]`
/// into `out_t` and `out_v`, one series after the other, and sets `offsets[i + 1]` to where series
/// i's samples end (`offsets[0]` is 0). Series i's head is the first `ns[i]` timestamps at `ts[i]`
/// (ascending) and values at `vs[i]`. Returns OK, or FALLBACK (nothing meaningful written) when
/// the output has less room than the samples found or a pointer is null.
///
/// # Safety
/// `ts`, `vs` and `ns` point to `count` entries each; `ts[i]` and `vs[i]` to `ns[i]` readable
/// values each, which nothing changes during the call; `out_t` and `out_v` to `room` writable
/// values each; `offsets` to `count + 1` writable entries.
#[no_mangle]
pub unsafe extern "C" fn alerting_window_gather(
    count: usize,
    ts: *const *const i64,
    vs: *const *const f64,
    ns: *const usize,
    mint: i64,
    maxt: i64,
    out_t: *mut i64,
    out_v: *mut f64,
    room: usize,
    offsets: *mut usize,
) -> i32 {
    if count > 0 && (ts.is_null() || vs.is_null() || ns.is_null()) {
        return FALLBACK;
    }
    if offsets.is_null() || (room > 0 && (out_t.is_null() || out_v.is_null())) {
        return FALLBACK;
    }
    let (heads_t, heads_v, lengths) = (
        slice_of(ts, count),
        slice_of(vs, count),
        slice_of(ns, count),
    );
    let mut heads = Vec::with_capacity(count);
    for i in 0..count {
        if lengths[i] > 0 && (heads_t[i].is_null() || heads_v[i].is_null()) {
            return FALLBACK;
        }
        heads.push((
            slice_of(heads_t[i], lengths[i]),
            slice_of(heads_v[i], lengths[i]),
        ));
    }
    let out_t = slice_of_mut(out_t, room);
    let out_v = slice_of_mut(out_v, room);
    let offsets = slice_of_mut(offsets, count + 1);
    let result = panic::catch_unwind(panic::AssertUnwindSafe(|| {
        gather(&heads, mint, maxt, out_t, out_v, offsets)
    }));
    match result {
        Ok(Some(())) => OK,
        _ => FALLBACK,
    }
}

type Head<'a> = (&'a [i64], &'a [f64]);

fn gather(
    heads: &[Head],
    mint: i64,
    maxt: i64,
    out_t: &mut [i64],
    out_v: &mut [f64],
    offsets: &mut [usize],
) -> Option<()> {
    let mut at = 0;
    offsets[0] = 0;
    for (i, (head_t, head_v)) in heads.iter().enumerate() {
        let lo = head_t.partition_point(|&t| t < mint);
        let hi = head_t.partition_point(|&t| t <= maxt).max(lo);
        let end = at + (hi - lo);
        out_t.get_mut(at..end)?.copy_from_slice(head_t.get(lo..hi)?);
        out_v.get_mut(at..end)?.copy_from_slice(head_v.get(lo..hi)?);
        at = end;
        offsets[i + 1] = at;
    }
    Some(())
}
