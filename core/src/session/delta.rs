//! Deltas between two versions of a block: XOR, then run-length encoding of
//! the zero runs. A task completion changes a few dozen bytes of a 4 KiB
//! index page, so its delta is a few dozen bytes.
//!
//! Encoding: a sequence of `(zero_run, literal_len, literal_bytes)` with both
//! lengths as LEB128 varints; the literal bytes are `old ^ new`. A trailing
//! zero run is implied, so equal blocks give an empty delta.

use crate::error::{Error, Result};

/// The delta turning `old` into `new` (same length).
pub(crate) fn encode(old: &[u8], new: &[u8]) -> Vec<u8> {
    debug_assert_eq!(old.len(), new.len());
    let mut out = Vec::new();
    let mut i = 0;
    let mut run_start = 0;
    while i < old.len() {
        if old[i] == new[i] {
            i += 1;
            continue;
        }
        let literal_start = i;
        // A literal ends at the first stretch of 4 equal bytes (shorter zero
        // runs cost more as two varints than as literal bytes).
        let mut end = i;
        let mut equal = 0;
        while end < old.len() && equal < 4 {
            equal = if old[end] == new[end] { equal + 1 } else { 0 };
            end += 1;
        }
        let literal_end = end - equal;
        put_varint(&mut out, (literal_start - run_start) as u64);
        put_varint(&mut out, (literal_end - literal_start) as u64);
        out.extend((literal_start..literal_end).map(|k| old[k] ^ new[k]));
        i = literal_end;
        run_start = literal_end;
    }
    out
}

/// Applies `delta` to `block` in place.
pub(crate) fn apply(block: &mut [u8], delta: &[u8]) -> Result<()> {
    let mut at = 0usize;
    let mut pos = 0usize;
    while pos < delta.len() {
        let run = get_varint(delta, &mut pos)? as usize;
        let len = get_varint(delta, &mut pos)? as usize;
        at = at.checked_add(run).ok_or_else(bad)?;
        let end = at.checked_add(len).ok_or_else(bad)?;
        let bytes = delta.get(pos..pos + len).ok_or_else(bad)?;
        let target = block.get_mut(at..end).ok_or_else(bad)?;
        for (t, x) in target.iter_mut().zip(bytes) {
            *t ^= x;
        }
        pos += len;
        at = end;
    }
    Ok(())
}

fn bad() -> Error {
    Error::DamagedState("checkpoint delta does not fit its block".into())
}

/// Appends `value` as an LEB128 varint.
pub(crate) fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Reads an LEB128 varint at `*pos`, advancing it.
pub(crate) fn get_varint(data: &[u8], pos: &mut usize) -> Result<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *data.get(*pos).ok_or_else(bad)?;
        *pos += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(old: &[u8], new: &[u8]) -> usize {
        let delta = encode(old, new);
        let mut block = old.to_vec();
        apply(&mut block, &delta).unwrap();
        assert_eq!(block, new);
        delta.len()
    }

    #[test]
    fn equal_blocks_give_an_empty_delta() {
        assert_eq!(round_trip(&[7; 4096], &[7; 4096]), 0);
    }

    #[test]
    fn one_changed_entry_costs_about_its_size() {
        let old = vec![0u8; 4096];
        let mut new = old.clone();
        for (k, b) in new[640..704].iter_mut().enumerate() {
            *b = k as u8 | 1;
        }
        let len = round_trip(&old, &new);
        assert!(len <= 64 + 4, "{len}");
    }

    #[test]
    fn scattered_changes_and_edges() {
        let old: Vec<u8> = (0..1000u32).map(|k| (k * 7) as u8).collect();
        let mut new = old.clone();
        for k in [0, 1, 5, 6, 7, 300, 302, 999] {
            new[k] = !new[k];
        }
        round_trip(&old, &new);
        round_trip(&new, &old);
        round_trip(&[], &[]);
    }

    #[test]
    fn a_delta_that_overruns_is_an_error() {
        let mut block = vec![0u8; 8];
        let delta = encode(&[0; 16], &[1; 16]);
        assert!(apply(&mut block, &delta).is_err());
        assert!(apply(&mut block, &[0x80]).is_err());
    }
}
