//! The task table as stored: the planned tasks (see [`crate::plan`]) and
//! each task's state as a fixed 64-byte entry (so that index pages have fixed
//! offsets and a completion changes one entry).

use crate::error::{Error, Result};
use crate::format::Format;
use crate::plan::Task;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

/// The state of one task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(u8)]
pub(crate) enum TaskState {
    #[default]
    Pending = 0,
    Done = 1,
    Failed = 2,
}

/// A task's entry in the index: 64 bytes, little-endian.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Entry {
    pub(crate) state: TaskState,
    /// `ErrorKind` number of a failed task.
    pub(crate) error_kind: u8,
    /// Index into `Format::ALL` of the output written.
    pub(crate) format: u8,
    pub(crate) output_crc32c: u32,
    pub(crate) input_size: u64,
    pub(crate) input_mtime_ns: i64,
    pub(crate) output_size: u64,
    pub(crate) input_blake3: [u8; 32],
}

/// Bytes per entry.
pub(crate) const ENTRY_SIZE: usize = 64;
/// Entries per index page (a 4 KiB page).
pub(crate) const ENTRIES_PER_PAGE: usize = 64;

impl Entry {
    pub(crate) fn to_bytes(self) -> [u8; ENTRY_SIZE] {
        let mut b = [0u8; ENTRY_SIZE];
        b[0] = self.state as u8;
        b[1] = self.error_kind;
        b[2] = self.format;
        b[4..8].copy_from_slice(&self.output_crc32c.to_le_bytes());
        b[8..16].copy_from_slice(&self.input_size.to_le_bytes());
        b[16..24].copy_from_slice(&self.input_mtime_ns.to_le_bytes());
        b[24..32].copy_from_slice(&self.output_size.to_le_bytes());
        b[32..64].copy_from_slice(&self.input_blake3);
        b
    }

    pub(crate) fn from_bytes(b: &[u8]) -> Entry {
        let u64_at = |k: usize| u64::from_le_bytes(b[k..k + 8].try_into().expect("8 bytes"));
        Entry {
            state: match b[0] {
                1 => TaskState::Done,
                2 => TaskState::Failed,
                _ => TaskState::Pending,
            },
            error_kind: b[1],
            format: b[2],
            output_crc32c: u32::from_le_bytes(b[4..8].try_into().expect("4 bytes")),
            input_size: u64_at(8),
            input_mtime_ns: u64_at(16) as i64,
            output_size: u64_at(24),
            input_blake3: b[32..64].try_into().expect("32 bytes"),
        }
    }

    /// The output format this entry records.
    pub(crate) fn output_format(&self) -> Format {
        Format::ALL[usize::from(self.format).min(Format::ALL.len() - 1)]
    }
}

/// What identifies an input file: the BLAKE3 of its content (never size and
/// modification time alone: a copy that keeps both can still change the pixels).
pub fn input_hash(data: &[u8]) -> [u8; 32] {
    *blake3::hash(data).as_bytes()
}

/// What tells an intact output from a torn or altered one, with its size:
/// the CRC32C of its bytes.
pub fn output_checksum(data: &[u8]) -> u32 {
    crc32c::crc32c(data)
}

/// Size and modification time of a file, the cheap test for "unchanged".
pub(crate) fn stat(path: &Path) -> std::io::Result<(u64, i64)> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path)?;
    Ok((meta.len(), meta.mtime() * 1_000_000_000 + meta.mtime_nsec()))
}

/// Serializes the task list: per task, the root as a varint and the
/// relative path's bytes with their length.
pub(crate) fn encode_tasks(tasks: &[Task]) -> Vec<u8> {
    use super::delta::put_varint;
    let mut out = Vec::new();
    put_varint(&mut out, tasks.len() as u64);
    for task in tasks {
        let bytes = task.relative.as_os_str().as_bytes();
        put_varint(&mut out, u64::from(task.root));
        put_varint(&mut out, bytes.len() as u64);
        out.extend_from_slice(bytes);
    }
    out
}

/// The inverse of [`encode_tasks`].
pub(crate) fn decode_tasks(data: &[u8]) -> Result<Vec<Task>> {
    use super::delta::get_varint;
    let mut pos = 0;
    let count = get_varint(data, &mut pos)? as usize;
    let mut tasks = Vec::with_capacity(count.min(data.len()));
    for _ in 0..count {
        let root = get_varint(data, &mut pos)? as u32;
        let len = get_varint(data, &mut pos)? as usize;
        let bytes = data
            .get(pos..pos + len)
            .ok_or_else(|| Error::DamagedState("task list".into()))?;
        pos += len;
        tasks.push(Task {
            root,
            relative: PathBuf::from(std::ffi::OsString::from_vec(bytes.to_vec())),
        });
    }
    Ok(tasks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip() {
        let entry = Entry {
            state: TaskState::Done,
            error_kind: 3,
            format: 2,
            output_crc32c: 0xdead_beef,
            input_size: 12345,
            input_mtime_ns: -5,
            output_size: 999,
            input_blake3: [7; 32],
        };
        assert_eq!(Entry::from_bytes(&entry.to_bytes()), entry);
    }

    #[test]
    fn task_lists_round_trip() {
        let tasks = vec![
            Task {
                root: 0,
                relative: PathBuf::new(),
            },
            Task {
                root: 3,
                relative: PathBuf::from("a/b c/é.jpg"),
            },
        ];
        assert_eq!(decode_tasks(&encode_tasks(&tasks)).unwrap(), tasks);
    }
}
