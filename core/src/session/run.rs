//! The run loop: worker threads compress or verify the tasks, and the
//! coordinator (the thread running the session) alone writes the state.

use super::layout::{
    encode_errors, encode_meta, kept_strips, page_bytes, strip_ids, Meta, ERRORS_BASE, INDEX_BASE,
    MAX_STRIPED_TASKS, META_BLOCK, STRIP_BITS,
};
use super::report::{tally, BatchProgress, SessionStatus, TaskOutcome, TaskReport};
use super::spec::SessionSpec;
use super::store::{BlockKind, Store};
use super::task::{self, Entry, TaskState, ENTRIES_PER_PAGE};
use super::{Session, STATE_DIR_NAME};
use crate::codecs::jpeg::strips::{StripStore, UnkeptStrips};
use crate::error::{Error, ErrorKind, Result};
use crate::format::Format;
use crate::options::Options;
use crate::plan::Plan;
use crate::telemetry::StatStage;
use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The log is made durable at least this often during a run.
const SYNC_INTERVAL: Duration = Duration::from_millis(200);
/// A compaction starts when the log grows past this.
const COMPACT_LOG_BYTES: u64 = 8 << 20;

impl Session {
    /// Runs the job to its end with worker threads: pending tasks first, then
    /// the finished ones are verified (and redone when their input changed or
    /// their output is missing or altered). Failed tasks are left alone (see
    /// [`retry_failed`](Self::retry_failed)).
    ///
    /// `progress` receives a report after each task, on the calling thread;
    /// returning `false`, or setting `cancel`, stops the run once the tasks in
    /// flight finish, with [`Error::Cancelled`]. Per-task failures are
    /// recorded and reported, not returned.
    pub fn run(
        &mut self,
        progress: &mut dyn FnMut(&BatchProgress) -> bool,
        cancel: &AtomicBool,
    ) -> Result<SessionStatus> {
        remove_temporaries(&self.job.spec.output_dir)?;
        let indexed = || self.entries.iter().copied().enumerate();
        let mut queue: Vec<(usize, Entry)> = indexed()
            .filter(|(_, e)| e.state == TaskState::Pending)
            .collect();
        let to_compress = queue.len();
        queue.extend(indexed().filter(|(_, e)| e.state == TaskState::Done));
        let jobs = match self.job.spec.jobs {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        }
        .min(queue.len().max(1));
        let next = AtomicUsize::new(0);
        let stop = AtomicBool::new(false);
        let started = Instant::now();
        let mut status = self.status();
        let mut compressed = 0usize;
        let mut outcome = Ok(());
        let mut last_sync = Instant::now();
        let Session {
            job,
            entries,
            errors,
            store,
            watch,
        } = self;
        let kept = kept_strips(store, entries)?;
        let mut state = State {
            entries,
            errors,
            store,
        };
        std::thread::scope(|scope| {
            // A rendezvous channel: a worker hands over its result before it
            // takes another task, so at most `jobs + 1` tasks are ever in
            // flight (computed or handed over but not yet in the state).
            let (sender, receiver) = mpsc::sync_channel(0);
            for _ in 0..jobs {
                let sender = sender.clone();
                let (queue, next, stop, job, kept) = (&queue, &next, &stop, &*job, &kept);
                scope.spawn(move || loop {
                    if stop.load(Ordering::Relaxed) || cancel.load(Ordering::Relaxed) {
                        break;
                    }
                    let Some(&(index, entry)) = queue.get(next.fetch_add(1, Ordering::Relaxed))
                    else {
                        break;
                    };
                    let link = StripLink {
                        kept: kept.get(&index),
                        sender: &sender,
                    };
                    let result = crate::error::catch_panic(|| Ok(job.work(index, entry, link)))
                        .unwrap_or_else(|e| Work::Failed(e.kind(), e.to_string()));
                    if sender.send(Message::Finished(index, result)).is_err() {
                        break;
                    }
                });
            }
            drop(sender);
            for message in receiver {
                let (index, work) = match message {
                    Message::Finished(index, work) => (index, work),
                    Message::Strip { id, bytes } => {
                        if let Err(e) = state.store.put(id, BlockKind::Data, bytes) {
                            stop.store(true, Ordering::Relaxed);
                            outcome = Err(e);
                        }
                        continue;
                    }
                };
                let report = match state.record(job, index, work, &mut status) {
                    Ok(report) => report,
                    Err(e) => {
                        stop.store(true, Ordering::Relaxed);
                        outcome = Err(e);
                        continue;
                    }
                };
                if report.outcome == TaskOutcome::Compressed {
                    compressed += 1;
                }
                if last_sync.elapsed() >= SYNC_INTERVAL {
                    if let Err(e) = state.store.sync() {
                        stop.store(true, Ordering::Relaxed);
                        outcome = Err(e);
                    }
                    last_sync = Instant::now();
                }
                let seconds = started.elapsed().as_secs_f64();
                let rate = compressed as f64 / seconds.max(1e-9);
                let left = to_compress.saturating_sub(compressed);
                let report = BatchProgress {
                    status,
                    rate,
                    eta: (rate > 0.0).then(|| Duration::from_secs_f64(left as f64 / rate)),
                    task: report,
                };
                watch.set(status);
                if !progress(&report) {
                    stop.store(true, Ordering::Relaxed);
                }
            }
        });
        self.watch.set(self.status());
        outcome?;
        self.finish_run()?;
        if stop.load(Ordering::Relaxed) || cancel.load(Ordering::Relaxed) {
            return Err(Error::Cancelled);
        }
        Ok(self.status())
    }

    /// Counts the run, makes the log durable, compacts when the log is long.
    fn finish_run(&mut self) -> Result<()> {
        let mut meta: Meta = serde_json::from_slice(self.store.block(META_BLOCK).unwrap_or(b"{}"))
            .map_err(|e| Error::DamagedState(format!("spec: {e}")))?;
        meta.runs += 1;
        self.store
            .put(META_BLOCK, BlockKind::Meta, encode_meta(&meta)?)?;
        self.store.sync()?;
        if self.store.log_len() > COMPACT_LOG_BYTES / 8 {
            self.store.compact()?;
        }
        Ok(())
    }

    /// Writes the index pages (and error pages) holding `indices` to the store.
    pub(super) fn persist(&mut self, indices: &[usize]) -> Result<()> {
        State {
            entries: &mut self.entries,
            errors: &mut self.errors,
            store: &mut self.store,
        }
        .persist(indices)
    }
}

/// The mutable part of a session, owned by the thread running it.
struct State<'a> {
    entries: &'a mut Vec<Entry>,
    errors: &'a mut BTreeMap<u32, String>,
    store: &'a mut Store,
}

impl State<'_> {
    /// Applies a worker's result to the entry and the state.
    fn record(
        &mut self,
        job: &Job,
        index: usize,
        work: Work,
        status: &mut SessionStatus,
    ) -> Result<TaskReport> {
        let input = job.input_path(index);
        tally(status, &self.entries[index], false);
        let (outcome, output) = match work {
            Work::Verified(entry) => {
                self.entries[index] = entry;
                let output = job.output_path(index, entry.output_format());
                (TaskOutcome::Verified, Some(output))
            }
            Work::Compressed(entry) => {
                self.entries[index] = entry;
                let output = job.output_path(index, entry.output_format());
                (TaskOutcome::Compressed, Some(output))
            }
            Work::Failed(kind, message) => {
                self.entries[index] = Entry {
                    state: TaskState::Failed,
                    error_kind: kind as u8,
                    ..Entry::default()
                };
                self.errors.insert(index as u32, message.clone());
                (TaskOutcome::Failed { kind, message }, None)
            }
        };
        tally(status, &self.entries[index], true);
        let checkpoint_started = std::time::Instant::now();
        let _span = tracing::debug_span!("pixpress.checkpoint", task = index).entered();
        self.persist(&[index])?;
        // The outcome is in the state; the task's strips are no longer needed.
        for id in self.store.ids_in(strip_ids(index)) {
            self.store.remove(id)?;
        }
        if outcome != TaskOutcome::Verified {
            // Compressed or failed: either way the task will not run again.
            trace("end", index);
        }
        if self.store.log_len() > COMPACT_LOG_BYTES {
            self.store.compact()?;
        }
        crate::telemetry::record_stage(StatStage::Checkpoint, checkpoint_started.elapsed());
        Ok(TaskReport {
            input,
            output,
            outcome,
        })
    }

    /// Writes the index pages (and error pages) holding `indices` to the store.
    fn persist(&mut self, indices: &[usize]) -> Result<()> {
        let mut pages: Vec<usize> = indices.iter().map(|i| i / ENTRIES_PER_PAGE).collect();
        pages.dedup();
        for page in pages {
            let bytes = page_bytes(self.entries, page);
            self.store
                .put(INDEX_BASE + page as u32, BlockKind::Index, bytes)?;
            let errors = encode_errors(self.errors, page as u32);
            let id = ERRORS_BASE + page as u32;
            if self.store.block(id).unwrap_or(&[]) != errors.as_slice() {
                self.store.put(id, BlockKind::Data, errors)?;
            }
        }
        Ok(())
    }
}

/// The immutable part of a session, shared with the worker threads.
#[derive(Debug)]
pub(super) struct Job {
    pub(super) spec: SessionSpec,
    pub(super) options: Options,
    pub(super) plan: Plan,
}

impl Job {
    /// The job of `spec`, its parsed `options` and its `plan`.
    pub(super) fn new(spec: SessionSpec, options: Options, plan: Plan) -> Job {
        Job {
            spec,
            options,
            plan,
        }
    }

    /// The work of one task, on a worker thread.
    fn work(&self, index: usize, entry: Entry, link: StripLink) -> Work {
        let input = self.input_path(index);
        if entry.state == TaskState::Done {
            if let Some(entry) = self.verify(index, entry) {
                return Work::Verified(entry);
            }
        }
        trace("start", index);
        match self.compress(index, &input, link) {
            Ok(entry) => Work::Compressed(entry),
            Err(e) => Work::Failed(e.kind(), e.to_string()),
        }
    }

    /// A finished task's entry (with a refreshed input stat) when its input is
    /// unchanged and its output intact; `None` when it must be redone.
    fn verify(&self, index: usize, entry: Entry) -> Option<Entry> {
        let output = self.output_path(index, entry.output_format());
        let data = fs::read(output).ok()?;
        if data.len() as u64 != entry.output_size
            || task::output_checksum(&data) != entry.output_crc32c
        {
            return None;
        }
        let input = self.input_path(index);
        let (size, mtime) = task::stat(&input).ok()?;
        let bytes = fs::read(&input).ok()?;
        (task::input_hash(&bytes) == entry.input_blake3).then_some(Entry {
            input_size: size,
            input_mtime_ns: mtime,
            ..entry
        })
    }

    fn compress(&self, index: usize, input: &Path, link: StripLink) -> Result<Entry> {
        let (_, mtime) = task::stat(input).map_err(|e| Error::io(input, e))?;
        let data = fs::read(input).map_err(|e| Error::io(input, e))?;
        let input_blake3 = task::input_hash(&data);
        let mut strips = TaskStrips {
            task: index,
            input_blake3,
            min_pixels: self.spec.strip_pixels,
            link,
        };
        let striped = self.spec.strip_pixels > 0 && index < MAX_STRIPED_TASKS;
        let out = compress_striped(
            &data,
            &self.options,
            striped.then_some(&mut strips as &mut dyn StripStore),
        )?;
        self.plan.write_output(index, &out)?;
        Ok(Entry {
            state: TaskState::Done,
            error_kind: 0,
            format: Format::ALL
                .iter()
                .position(|f| *f == out.format)
                .unwrap_or(0) as u8,
            output_crc32c: task::output_checksum(&out.data),
            input_size: data.len() as u64,
            input_mtime_ns: mtime,
            output_size: out.data.len() as u64,
            input_blake3,
        })
    }

    pub(super) fn input_path(&self, index: usize) -> PathBuf {
        self.plan.input(index)
    }

    /// Where task `index` writes when its output is `format`.
    fn output_path(&self, index: usize, format: Format) -> PathBuf {
        self.plan.output(index, format)
    }
}

/// Compresses `data` as a batch task does: admitted under the memory
/// budget, counted in the metrics, JPEG outputs striped through `strips`
/// when given.
fn compress_striped(
    data: &[u8],
    options: &Options,
    strips: Option<&mut dyn StripStore>,
) -> Result<crate::Compressed> {
    crate::pipeline::admitted_and_counted(
        || crate::pipeline::estimate_input(data),
        data.len(),
        || {
            crate::pipeline::compress(
                data,
                options,
                &mut crate::progress::Reporter::silent(),
                strips,
            )
        },
    )
}

/// Compresses `data` into the bytes a batch task writes for it with these
/// options (a session's tasks from the first on, with its `strip_pixels`):
/// a JPEG output of at least `strip_pixels` pixels (0: none) is encoded in
/// strips as a session's is, keeping none of them. For workers that share a
/// batch's outputs without its state, such as a Ray task.
pub fn compress_as_batch(
    data: &[u8],
    options: &Options,
    strip_pixels: u64,
) -> Result<crate::Compressed> {
    let mut unkept = UnkeptStrips {
        min_pixels: strip_pixels,
    };
    compress_striped(
        data,
        options,
        (strip_pixels > 0).then_some(&mut unkept as &mut dyn StripStore),
    )
}

/// What a worker sends the coordinator, which alone writes the state.
enum Message {
    /// A strip of a striped output, to keep as block `id`.
    Strip { id: u32, bytes: Vec<u8> },
    /// A task's outcome.
    Finished(usize, Work),
}

/// A worker's way to its task's strips: those kept by earlier runs, and the
/// channel to the coordinator, which keeps new ones.
#[derive(Clone, Copy)]
struct StripLink<'a> {
    kept: Option<&'a BTreeMap<usize, Vec<u8>>>,
    sender: &'a mpsc::SyncSender<Message>,
}

/// The strips of one task's output. Each kept strip starts with the BLAKE3 of
/// the input it was encoded from, so a changed input never reuses them.
struct TaskStrips<'a> {
    task: usize,
    input_blake3: [u8; 32],
    min_pixels: u64,
    link: StripLink<'a>,
}

impl StripStore for TaskStrips<'_> {
    fn wants(&self, width: u32, height: u32) -> bool {
        u64::from(width) * u64::from(height) >= self.min_pixels
    }

    fn load(&self, index: usize) -> Option<Vec<u8>> {
        let kept = self.link.kept?.get(&index)?;
        kept.strip_prefix(&self.input_blake3[..])
            .map(<[u8]>::to_vec)
    }

    fn save(&mut self, index: usize, bytes: &[u8]) -> Result<()> {
        trace("strip", self.task);
        if index < 1 << STRIP_BITS {
            let id = strip_ids(self.task).start | index as u32;
            let bytes = [&self.input_blake3[..], bytes].concat();
            // A send fails only when the run is stopping; the strip is then
            // encoded again on resume.
            let _ = self.link.sender.send(Message::Strip { id, bytes });
            crate::failpoint::hit("strip.sent");
        }
        Ok(())
    }
}

/// A worker's result for one task.
enum Work {
    Verified(Entry),
    Compressed(Entry),
    Failed(ErrorKind, String),
}

/// Removes temporary files an interrupted atomic write left below `dir`
/// (only those of processes that no longer run: a live writer keeps its own).
fn remove_temporaries(dir: &Path) -> Result<()> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if is_dir && entry.file_name() != STATE_DIR_NAME {
            remove_temporaries(&path)?;
        } else if !is_dir && crate::io::is_abandoned_temp(&entry.file_name()) {
            fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
        }
    }
    Ok(())
}

/// With `PIXPRESS_SESSION_TRACE=FILE`, appends `start N` when task N starts
/// compressing, `strip N` each time it encodes a strip of a striped output, and
/// `end N` once its outcome (compressed or failed) is in the state (the crash
/// tests use it to count redone work).
fn trace(what: &str, index: usize) {
    static FILE: OnceLock<Option<Mutex<fs::File>>> = OnceLock::new();
    let file = FILE.get_or_init(|| {
        let path = std::env::var_os("PIXPRESS_SESSION_TRACE")?;
        let file = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .ok()?;
        Some(Mutex::new(file))
    });
    if let Some(file) = file {
        if let Ok(mut file) = file.lock() {
            let _ = file.write_all(format!("{what} {index}\n").as_bytes());
        }
    }
}
