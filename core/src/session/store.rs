//! The checkpoint store: a session's state as numbered blocks, persisted
//! incrementally.
//!
//! On disk, in the state directory:
//! - `snapshot`: the manifest of the last compaction (generation, the block
//!   table, and the BLAKE3 addresses of the chunks holding the blocks),
//!   replaced atomically; it is the commit point of a compaction.
//! - `chunks/`: the blocks laid end to end (index pages first, at fixed
//!   offsets) and cut into 64 KiB chunks, each stored LZ4-compressed under its
//!   BLAKE3 address. A compaction writes only chunks that are new.
//! - `log.GENERATION`: every change since that snapshot, appended as records
//!   `[u32 payload length][u8 op][u32 block][u32 block length][payload][u32 CRC32C]`.
//!   An index page's change is an XOR+RLE delta against its previous version;
//!   a data or meta block's new version is LZ4-compressed with its previous
//!   version as dictionary. A torn or corrupt tail is detected by its length
//!   or CRC32C, ignored and cut off on open.

use super::delta;
use crate::error::{Error, Result};
use crate::failpoint;
use crate::io::write_atomic;
use std::collections::{BTreeMap, HashSet};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// What a block holds, which decides how its changes are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum BlockKind {
    /// The job spec and counters.
    Meta = 1,
    /// A fixed-size page of the task table.
    Index = 2,
    /// Variable-size data: task names, error messages, partial results.
    Data = 3,
}

impl BlockKind {
    fn from_u8(v: u8) -> Result<BlockKind> {
        match v {
            1 => Ok(BlockKind::Meta),
            2 => Ok(BlockKind::Index),
            3 => Ok(BlockKind::Data),
            _ => Err(corrupt(format!("unknown block kind {v}"))),
        }
    }
}

/// The size chunks are cut to.
const CHUNK_SIZE: usize = 64 * 1024;
const SNAPSHOT_MAGIC: &[u8; 8] = b"PXPSNAP1";
/// The manifest file; a state directory without one holds no session.
const SNAPSHOT_FILE: &str = "snapshot";
const LOG_MAGIC: &[u8; 8] = b"PXPLOG01";
const OP_XOR: u8 = 1;
const OP_LZ: u8 = 2;
const OP_REMOVE: u8 = 3;
/// Record header: payload length, op, block id, block length.
const RECORD_HEADER: usize = 4 + 1 + 4 + 4;

#[derive(Debug, Clone)]
struct Block {
    kind: BlockKind,
    data: Vec<u8>,
}

/// An open checkpoint store. One writer at a time (the session's coordinator).
#[derive(Debug)]
pub(crate) struct Store {
    dir: PathBuf,
    blocks: BTreeMap<u32, Block>,
    generation: u64,
    log: File,
    log_len: u64,
    /// Bytes appended to the log or written as chunks and manifests since open.
    bytes_written: u64,
    unsynced: bool,
    /// The state directory's lock, held while the store is open for writing.
    _lock: Option<File>,
    /// Opened with [`Store::open_read_only`]: every write fails.
    read_only: bool,
}

fn corrupt(detail: impl std::fmt::Display) -> Error {
    Error::DamagedState(detail.to_string())
}

/// Whether `dir` holds a session's state (its snapshot manifest).
pub(crate) fn exists(dir: &Path) -> bool {
    dir.join(SNAPSHOT_FILE).exists()
}

impl Store {
    /// Creates a store in `dir` (which must not hold one) with `blocks`.
    pub(crate) fn create(dir: &Path, blocks: Vec<(u32, BlockKind, Vec<u8>)>) -> Result<Store> {
        let lock = lock_dir(dir)?;
        if exists(dir) {
            return Err(Error::InvalidArgument(format!(
                "{} already holds a session",
                dir.display()
            )));
        }
        // A create that crashed before its first snapshot left nothing to keep.
        for entry in read_dir(dir)? {
            if entry.file_name() != LOCK_FILE {
                let path = entry.path();
                let removed = if entry.file_type().is_ok_and(|t| t.is_dir()) {
                    fs::remove_dir_all(&path)
                } else {
                    fs::remove_file(&path)
                };
                removed.map_err(|e| Error::io(&path, e))?;
            }
        }
        fs::create_dir_all(dir.join("chunks")).map_err(|e| Error::io(dir, e))?;
        let blocks = blocks
            .into_iter()
            .map(|(id, kind, data)| (id, Block { kind, data }))
            .collect();
        let mut bytes_written = 0;
        let log = start_log(dir, 0, &mut bytes_written)?;
        let mut store = Store {
            dir: dir.to_path_buf(),
            blocks,
            generation: 0,
            log,
            log_len: LOG_MAGIC.len() as u64,
            bytes_written,
            unsynced: false,
            _lock: Some(lock),
            read_only: false,
        };
        store.compact()?;
        Ok(store)
    }

    /// Opens the store in `dir`: the last snapshot, then its log replayed up
    /// to the first torn or corrupt record (which is cut off).
    pub(crate) fn open(dir: &Path) -> Result<Store> {
        let lock = lock_dir(dir)?;
        let mut store = Store::load(dir, Some(lock))?;
        store.remove_leftovers()?;
        Ok(store)
    }

    /// Opens the store in `dir` to read it while another process may be
    /// running it: no lock is taken and nothing is written (a torn tail, or
    /// the last record being appended, is left as it is and not read).
    pub(crate) fn open_read_only(dir: &Path) -> Result<Store> {
        Store::load(dir, None)
    }

    /// The snapshot and its log replayed; writable when `lock` is given.
    fn load(dir: &Path, lock: Option<File>) -> Result<Store> {
        let read_only = lock.is_none();
        let manifest_path = dir.join(SNAPSHOT_FILE);
        let manifest = fs::read(&manifest_path).map_err(|e| Error::io(&manifest_path, e))?;
        let (generation, table, chunks) = parse_manifest(&manifest)?;
        let mut stream = Vec::new();
        for hash in &chunks {
            stream.extend_from_slice(&read_chunk(dir, hash)?);
        }
        let mut blocks = BTreeMap::new();
        for (id, kind, offset, len) in table {
            let data = stream
                .get(offset..offset + len)
                .ok_or_else(|| corrupt("block outside the snapshot"))?
                .to_vec();
            blocks.insert(id, Block { kind, data });
        }
        let log_path = dir.join(format!("log.{generation}"));
        let mut bytes_written = 0;
        let log_bytes = match fs::read(&log_path) {
            Ok(bytes) if bytes.starts_with(LOG_MAGIC) => bytes,
            // A compaction by the running process removed it meanwhile: the
            // snapshot alone is a consistent (slightly older) state.
            _ if read_only => LOG_MAGIC.to_vec(),
            // The log is synced before the snapshot naming it commits, so a
            // missing or headerless log means the state directory was
            // damaged from outside: keep the snapshot, start the log again.
            _ => {
                start_log(dir, generation, &mut bytes_written)?;
                LOG_MAGIC.to_vec()
            }
        };
        let mut pos = LOG_MAGIC.len();
        while let Some((op, id, block_len, payload, next)) = next_record(&log_bytes, pos) {
            apply_record(&mut blocks, op, id, block_len, payload)?;
            pos = next;
        }
        let log = if read_only {
            File::open(&log_path)
                .or_else(|_| File::open("/dev/null"))
                .map_err(|e| Error::io(&log_path, e))?
        } else {
            OpenOptions::new()
                .append(true)
                .open(&log_path)
                .map_err(|e| Error::io(&log_path, e))?
        };
        if pos < log_bytes.len() && !read_only {
            // A torn tail: cut it so new records follow the last good one.
            log.set_len(pos as u64)
                .and_then(|_| log.sync_data())
                .map_err(|e| Error::io(&log_path, e))?;
        }
        let store = Store {
            dir: dir.to_path_buf(),
            blocks,
            generation,
            log,
            log_len: pos as u64,
            bytes_written,
            unsynced: false,
            _lock: lock,
            read_only,
        };
        Ok(store)
    }

    /// The current content of block `id`.
    pub(crate) fn block(&self, id: u32) -> Option<&[u8]> {
        self.blocks.get(&id).map(|b| b.data.as_slice())
    }

    /// Writes `data` as the new version of block `id` (created as `kind` when
    /// new), appending only the change to the log.
    pub(crate) fn put(&mut self, id: u32, kind: BlockKind, data: Vec<u8>) -> Result<()> {
        let old = self.blocks.get(&id);
        let (op, payload) = match (kind, old) {
            (BlockKind::Index, Some(old)) if old.data.len() == data.len() => {
                (OP_XOR, delta::encode(&old.data, &data))
            }
            (_, old) => {
                let dict = old.map(|b| b.data.as_slice()).unwrap_or(&[]);
                (OP_LZ, lz4_flex::block::compress_with_dict(&data, dict))
            }
        };
        if op == OP_XOR && payload.is_empty() {
            return Ok(());
        }
        self.append(op, kind, id, data.len(), &payload)?;
        self.blocks.insert(id, Block { kind, data });
        Ok(())
    }

    /// Removes block `id`, if present.
    pub(crate) fn remove(&mut self, id: u32) -> Result<()> {
        let Some(block) = self.blocks.remove(&id) else {
            return Ok(());
        };
        self.append(OP_REMOVE, block.kind, id, 0, &[])
    }

    /// The ids of the blocks in `range`.
    pub(crate) fn ids_in(&self, range: impl std::ops::RangeBounds<u32>) -> Vec<u32> {
        self.blocks.range(range).map(|(id, _)| *id).collect()
    }

    /// Appends the record `[payload length][op | kind << 4][id][block length][payload][CRC32C]`.
    fn append(
        &mut self,
        op: u8,
        kind: BlockKind,
        id: u32,
        block_len: usize,
        payload: &[u8],
    ) -> Result<()> {
        self.writable()?;
        let mut record = Vec::with_capacity(RECORD_HEADER + payload.len() + 4);
        record.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        record.push(op | (kind as u8) << 4);
        record.extend_from_slice(&id.to_le_bytes());
        record.extend_from_slice(&(block_len as u32).to_le_bytes());
        record.extend_from_slice(payload);
        let crc = crc32c::crc32c(&record);
        record.extend_from_slice(&crc.to_le_bytes());
        let log_path = self.log_path();
        let half = record.len() / 2;
        self.log
            .write_all(&record[..half])
            .map_err(|e| Error::io(&log_path, e))?;
        failpoint::hit("log.mid_append");
        self.log
            .write_all(&record[half..])
            .map_err(|e| Error::io(&log_path, e))?;
        self.log_len += record.len() as u64;
        self.bytes_written += record.len() as u64;
        self.unsynced = true;
        Ok(())
    }

    /// Fails when the store was opened read-only.
    fn writable(&self) -> Result<()> {
        if self.read_only {
            return Err(Error::InvalidArgument(format!(
                "{} is open read-only (another process runs the session)",
                self.dir.display()
            )));
        }
        Ok(())
    }

    /// Makes every appended record durable.
    pub(crate) fn sync(&mut self) -> Result<()> {
        if self.unsynced {
            let log_path = self.log_path();
            self.log.sync_data().map_err(|e| Error::io(&log_path, e))?;
            self.unsynced = false;
        }
        Ok(())
    }

    /// Bytes in the log since the last compaction.
    pub(crate) fn log_len(&self) -> u64 {
        self.log_len
    }

    /// Bytes this handle has written to the state directory.
    pub(crate) fn bytes_written(&self) -> u64 {
        self.bytes_written
    }

    /// Writes a full snapshot (only chunks not already stored), switches to a
    /// new, empty log, and removes the old log and unreferenced chunks.
    pub(crate) fn compact(&mut self) -> Result<()> {
        self.writable()?;
        self.sync()?;
        // Index pages first, so that their fixed-size stretch keeps its chunk
        // boundaries from one snapshot to the next.
        let mut order: Vec<(&u32, &Block)> = self.blocks.iter().collect();
        order.sort_by_key(|(id, b)| (b.kind != BlockKind::Index, **id));
        let mut stream = Vec::new();
        let mut table = Vec::with_capacity(order.len());
        for (id, block) in order {
            table.push((*id, block.kind, stream.len(), block.data.len()));
            stream.extend_from_slice(&block.data);
        }
        let chunks_dir = self.dir.join("chunks");
        let mut hashes = Vec::new();
        for chunk in stream.chunks(CHUNK_SIZE) {
            let hash = *blake3::hash(chunk).as_bytes();
            let path = chunk_path(&self.dir, &hash);
            if !path.exists() {
                let packed = lz4_flex::compress_prepend_size(chunk);
                write_file_synced(&path, &packed)?;
                self.bytes_written += packed.len() as u64;
            }
            hashes.push(hash);
        }
        sync_dir(&chunks_dir)?;
        failpoint::hit("compact.chunks_written");
        let generation = self.generation + 1;
        let log = start_log(&self.dir, generation, &mut self.bytes_written)?;
        let manifest = build_manifest(generation, &table, &hashes);
        write_atomic(&self.dir.join(SNAPSHOT_FILE), &manifest)?;
        self.bytes_written += manifest.len() as u64;
        self.generation = generation;
        self.log = log;
        self.log_len = LOG_MAGIC.len() as u64;
        self.remove_leftovers()
    }

    fn log_path(&self) -> PathBuf {
        self.dir.join(format!("log.{}", self.generation))
    }

    /// Removes logs of other generations and chunks the snapshot does not use.
    fn remove_leftovers(&mut self) -> Result<()> {
        let manifest =
            fs::read(self.dir.join(SNAPSHOT_FILE)).map_err(|e| Error::io(&self.dir, e))?;
        let (_, _, used) = parse_manifest(&manifest)?;
        let used: HashSet<String> = used.iter().map(hex).collect();
        let current = format!("log.{}", self.generation);
        for entry in read_dir(&self.dir)? {
            let name = entry.file_name().to_string_lossy().into_owned();
            if (name.starts_with("log.") && name != current)
                || crate::io::is_abandoned_temp(&entry.file_name())
            {
                let _ = fs::remove_file(entry.path());
            }
        }
        for entry in read_dir(&self.dir.join("chunks"))? {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !used.contains(&name) {
                let _ = fs::remove_file(entry.path());
            }
        }
        Ok(())
    }
}

/// The file in the state directory whose `flock` marks the store as open;
/// it holds the opener's process id, for the error another opener gets.
const LOCK_FILE: &str = "lock";

/// Takes the exclusive lock of the state directory `dir` (creating both),
/// or fails at once, naming the process that holds it. The kernel releases
/// the lock when its holder exits, however it exits.
fn lock_dir(dir: &Path) -> Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    use std::os::unix::io::AsRawFd;
    fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let path = dir.join(LOCK_FILE);
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(&path)
        .map_err(|e| Error::io(&path, e))?;
    // SAFETY: `flock` takes a plain descriptor and touches no memory of ours;
    // the descriptor is owned by `file`, which is alive for the whole call.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        let holder = fs::read_to_string(&path).unwrap_or_default();
        let holder = match holder.trim() {
            "" => "another process".to_string(),
            pid => format!("process {pid}"),
        };
        return Err(Error::io(
            dir,
            std::io::Error::new(
                std::io::ErrorKind::WouldBlock,
                format!("the session is in use by {holder}; wait for it to finish"),
            ),
        ));
    }
    file.set_len(0)
        .and_then(|_| file.write_all(std::process::id().to_string().as_bytes()))
        .map_err(|e| Error::io(&path, e))?;
    Ok(file)
}

fn read_dir(dir: &Path) -> Result<Vec<fs::DirEntry>> {
    fs::read_dir(dir)
        .and_then(|entries| entries.collect())
        .map_err(|e| Error::io(dir, e))
}

/// Creates `log.GENERATION` holding only its header, synced.
fn start_log(dir: &Path, generation: u64, bytes_written: &mut u64) -> Result<File> {
    let path = dir.join(format!("log.{generation}"));
    let mut file = OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .open(&path)
        .map_err(|e| Error::io(&path, e))?;
    file.write_all(LOG_MAGIC)
        .and_then(|_| file.sync_all())
        .map_err(|e| Error::io(&path, e))?;
    sync_dir(dir)?;
    *bytes_written += LOG_MAGIC.len() as u64;
    Ok(file)
}

/// Parses the record at `pos`: `(op, block, block length, payload, next position)`,
/// or `None` when it is torn or fails its CRC.
fn next_record(log: &[u8], pos: usize) -> Option<(u8, u32, usize, &[u8], usize)> {
    let header = log.get(pos..pos + RECORD_HEADER)?;
    let payload_len = u32::from_le_bytes(header[0..4].try_into().ok()?) as usize;
    let end = pos.checked_add(RECORD_HEADER + payload_len)?;
    let body = log.get(pos..end)?;
    let crc = u32::from_le_bytes(log.get(end..end + 4)?.try_into().ok()?);
    if crc32c::crc32c(body) != crc {
        return None;
    }
    let op = header[4];
    let id = u32::from_le_bytes(header[5..9].try_into().ok()?);
    let block_len = u32::from_le_bytes(header[9..13].try_into().ok()?) as usize;
    Some((op, id, block_len, &body[RECORD_HEADER..], end + 4))
}

fn apply_record(
    blocks: &mut BTreeMap<u32, Block>,
    op: u8,
    id: u32,
    block_len: usize,
    payload: &[u8],
) -> Result<()> {
    let kind = BlockKind::from_u8(op >> 4)?;
    match op & 0x0f {
        OP_XOR => {
            let block = blocks
                .get_mut(&id)
                .filter(|b| b.data.len() == block_len)
                .ok_or_else(|| corrupt(format!("delta for missing block {id}")))?;
            delta::apply(&mut block.data, payload)
        }
        OP_LZ => {
            let dict = blocks.get(&id).map(|b| b.data.as_slice()).unwrap_or(&[]);
            let data = lz4_flex::block::decompress_with_dict(payload, block_len, dict)
                .map_err(|e| corrupt(format!("block {id}: {e}")))?;
            blocks.insert(id, Block { kind, data });
            Ok(())
        }
        OP_REMOVE => {
            blocks.remove(&id);
            Ok(())
        }
        other => Err(corrupt(format!("unknown record op {other}"))),
    }
}

fn build_manifest(
    generation: u64,
    table: &[(u32, BlockKind, usize, usize)],
    hashes: &[[u8; 32]],
) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(SNAPSHOT_MAGIC);
    out.extend_from_slice(&generation.to_le_bytes());
    out.extend_from_slice(&(table.len() as u32).to_le_bytes());
    for (id, kind, offset, len) in table {
        out.extend_from_slice(&id.to_le_bytes());
        out.push(*kind as u8);
        out.extend_from_slice(&(*offset as u64).to_le_bytes());
        out.extend_from_slice(&(*len as u64).to_le_bytes());
    }
    out.extend_from_slice(&(hashes.len() as u32).to_le_bytes());
    for hash in hashes {
        out.extend_from_slice(hash);
    }
    let crc = crc32c::crc32c(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

type Manifest = (u64, Vec<(u32, BlockKind, usize, usize)>, Vec<[u8; 32]>);

fn parse_manifest(data: &[u8]) -> Result<Manifest> {
    let bad = || corrupt("snapshot manifest is malformed");
    let body_len = data.len().checked_sub(4).ok_or_else(bad)?;
    let crc = u32::from_le_bytes(data[body_len..].try_into().map_err(|_| bad())?);
    if crc32c::crc32c(&data[..body_len]) != crc || !data.starts_with(SNAPSHOT_MAGIC) {
        return Err(bad());
    }
    let mut pos = SNAPSHOT_MAGIC.len();
    let mut take = |n: usize| -> Result<&[u8]> {
        let slice = data.get(pos..pos + n).filter(|_| pos + n <= body_len);
        pos += n;
        slice.ok_or_else(bad)
    };
    let generation = u64::from_le_bytes(take(8)?.try_into().map_err(|_| bad())?);
    let count = u32::from_le_bytes(take(4)?.try_into().map_err(|_| bad())?);
    let mut table = Vec::new();
    for _ in 0..count {
        let id = u32::from_le_bytes(take(4)?.try_into().map_err(|_| bad())?);
        let kind = BlockKind::from_u8(take(1)?[0])?;
        let offset = u64::from_le_bytes(take(8)?.try_into().map_err(|_| bad())?) as usize;
        let len = u64::from_le_bytes(take(8)?.try_into().map_err(|_| bad())?) as usize;
        table.push((id, kind, offset, len));
    }
    let chunks = u32::from_le_bytes(take(4)?.try_into().map_err(|_| bad())?);
    let mut hashes = Vec::new();
    for _ in 0..chunks {
        hashes.push(take(32)?.try_into().map_err(|_| bad())?);
    }
    Ok((generation, table, hashes))
}

fn hex(hash: &[u8; 32]) -> String {
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

fn chunk_path(dir: &Path, hash: &[u8; 32]) -> PathBuf {
    dir.join("chunks").join(hex(hash))
}

fn read_chunk(dir: &Path, hash: &[u8; 32]) -> Result<Vec<u8>> {
    let path = chunk_path(dir, hash);
    let packed = fs::read(&path).map_err(|e| Error::io(&path, e))?;
    let chunk = lz4_flex::decompress_size_prepended(&packed)
        .map_err(|e| corrupt(format!("chunk {}: {e}", path.display())))?;
    if blake3::hash(&chunk).as_bytes() != hash {
        return Err(corrupt(format!(
            "chunk {} does not match its address",
            path.display()
        )));
    }
    Ok(chunk)
}

/// Writes an immutable file through a temporary name, synced (the directory
/// is synced by the caller once for many files).
fn write_file_synced(path: &Path, data: &[u8]) -> Result<()> {
    let (mut file, temp) = crate::io::create_temp_beside(path).map_err(|e| Error::io(path, e))?;
    (|| -> std::io::Result<()> {
        file.write_all(data)?;
        file.sync_all()?;
        fs::rename(&temp, path)
    })()
    .map_err(|e| {
        let _ = fs::remove_file(&temp);
        Error::io(path, e)
    })
}

fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io(dir, e))
}

#[cfg(test)]
mod tests;
