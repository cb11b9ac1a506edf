//! How a session's state is laid out in the store: which block holds what,
//! and the encoding of the meta block, the index pages and the error pages.

use super::delta;
use super::spec::SessionSpec;
use super::store::Store;
use super::task::{Entry, TaskState, ENTRIES_PER_PAGE, ENTRY_SIZE};
use crate::error::{Error, ErrorKind, Result};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

pub(super) const META_BLOCK: u32 = 0;
pub(super) const TASKS_BLOCK: u32 = 1;
/// Index page `k` is block `INDEX_BASE + k`.
pub(super) const INDEX_BASE: u32 = 1 << 20;
/// The error messages of index page `k` are block `ERRORS_BASE + k`.
pub(super) const ERRORS_BASE: u32 = 2 << 20;
/// Strip `s` of task `t`'s striped output is block `STRIPS_BASE | t << STRIP_BITS | s`.
const STRIPS_BASE: u32 = 1 << 31;
pub(super) const STRIP_BITS: u32 = 12;
/// Tasks from this index on keep no strips (their ids would not fit).
pub(super) const MAX_STRIPED_TASKS: usize = 1 << (31 - STRIP_BITS);

#[derive(Serialize, Deserialize)]
pub(super) struct Meta {
    pub(super) version: u32,
    pub(super) spec: SessionSpec,
    pub(super) runs: u64,
}

pub(super) fn encode_meta(meta: &Meta) -> Result<Vec<u8>> {
    serde_json::to_vec(meta).map_err(|e| Error::InvalidArgument(format!("session spec: {e}")))
}

pub(super) fn page_count(tasks: usize) -> usize {
    tasks.div_ceil(ENTRIES_PER_PAGE)
}

/// Index page `page`: its entries, padded with empty ones to the full page size.
pub(super) fn page_bytes(entries: &[Entry], page: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; ENTRIES_PER_PAGE * ENTRY_SIZE];
    let first = page * ENTRIES_PER_PAGE;
    let last = (first + ENTRIES_PER_PAGE).min(entries.len());
    for (slot, entry) in bytes
        .chunks_exact_mut(ENTRY_SIZE)
        .zip(&entries[first..last])
    {
        slot.copy_from_slice(&entry.to_bytes());
    }
    bytes
}

pub(super) fn pages_of(errors: &BTreeMap<u32, String>) -> Vec<u32> {
    let mut pages: Vec<u32> = errors.keys().map(|i| i / ENTRIES_PER_PAGE as u32).collect();
    pages.dedup();
    pages
}

/// The messages of page `page`'s failed tasks: `(task varint, length varint, UTF-8)`.
pub(super) fn encode_errors(errors: &BTreeMap<u32, String>, page: u32) -> Vec<u8> {
    let first = page * ENTRIES_PER_PAGE as u32;
    let mut out = Vec::new();
    for (index, message) in errors.range(first..first + ENTRIES_PER_PAGE as u32) {
        delta::put_varint(&mut out, u64::from(*index));
        delta::put_varint(&mut out, message.len() as u64);
        out.extend_from_slice(message.as_bytes());
    }
    out
}

pub(super) fn decode_errors(data: &[u8], errors: &mut BTreeMap<u32, String>) -> Result<()> {
    let mut pos = 0;
    while pos < data.len() {
        let index = delta::get_varint(data, &mut pos)? as u32;
        let len = delta::get_varint(data, &mut pos)? as usize;
        let text = data
            .get(pos..pos + len)
            .ok_or_else(|| Error::DamagedState("error page".into()))?;
        errors.insert(index, String::from_utf8_lossy(text).into_owned());
        pos += len;
    }
    Ok(())
}

pub(super) fn error_kind_from(value: u8) -> ErrorKind {
    ErrorKind::from_number(u32::from(value)).unwrap_or(ErrorKind::Internal)
}

/// The block ids of task `task`'s strips.
pub(super) fn strip_ids(task: usize) -> std::ops::Range<u32> {
    let first = STRIPS_BASE | (task as u32) << STRIP_BITS;
    first..first + (1 << STRIP_BITS)
}

/// The strips kept for pending tasks, by task and strip; those of other tasks
/// (finished just before a crash) are removed from the store.
pub(super) fn kept_strips(
    store: &mut Store,
    entries: &[Entry],
) -> Result<HashMap<usize, BTreeMap<usize, Vec<u8>>>> {
    let mut kept: HashMap<usize, BTreeMap<usize, Vec<u8>>> = HashMap::new();
    for id in store.ids_in(STRIPS_BASE..) {
        let task = ((id & !STRIPS_BASE) >> STRIP_BITS) as usize;
        let strip = (id & ((1 << STRIP_BITS) - 1)) as usize;
        match entries.get(task) {
            Some(entry) if entry.state == TaskState::Pending => {
                let bytes = store.block(id).unwrap_or_default().to_vec();
                kept.entry(task).or_default().insert(strip, bytes);
            }
            _ => store.remove(id)?,
        }
    }
    Ok(kept)
}
