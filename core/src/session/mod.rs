//! Resumable batch sessions: a job over many files whose state survives
//! `kill -9` at any moment.
//!
//! A [`Session`] is created from a [`SessionSpec`] (inputs, output directory,
//! naming rule, options) and keeps its state in a state directory (by default
//! `OUTDIR/.pixpress-session/`) through an incremental checkpoint store. Each
//! output is written atomically (temporary file, fsync, rename, directory
//! fsync) and its size and CRC32C are recorded; each input is identified by
//! the BLAKE3 of its content. [`Session::open`] resumes: finished tasks whose
//! input is unchanged and whose output is intact are skipped, anything
//! missing, torn or altered is redone, and leftover temporary files are removed.
//!
//! ```no_run
//! use std::sync::atomic::AtomicBool;
//! let spec = pixpress::SessionSpec {
//!     inputs: vec!["photos".into()],
//!     output_dir: "out".into(),
//!     options: vec![("format".into(), "webp".into())],
//!     ..Default::default()
//! };
//! let mut session = pixpress::Session::open_or_create(spec)?;
//! let status = session.run(&mut |p| { println!("{}/{}", p.status.done + p.status.failed, p.status.total); true }, &AtomicBool::new(false))?;
//! # Ok::<(), pixpress::Error>(())
//! ```

mod delta;
mod store;
mod task;

pub use crate::plan::{has_image_extension, IMAGE_EXTENSIONS};

use crate::codecs::jpeg::strips::StripStore;
use crate::error::{Error, ErrorKind, Result};
use crate::format::Format;
use crate::metrics::MetricStage;
use crate::options::Options;
use crate::plan::{Plan, PlanSpec};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use store::{BlockKind, Store};
use task::{Entry, TaskState, ENTRIES_PER_PAGE, ENTRY_SIZE};

/// The name of the state directory inside the output directory.
pub const STATE_DIR_NAME: &str = ".pixpress-session";
/// The default naming rule: the input's relative path with the output's extension.
pub const DEFAULT_NAMING: &str = "{path}.{ext}";

const META_BLOCK: u32 = 0;
const TASKS_BLOCK: u32 = 1;
/// Index page `k` is block `INDEX_BASE + k`.
const INDEX_BASE: u32 = 1 << 20;
/// The error messages of index page `k` are block `ERRORS_BASE + k`.
const ERRORS_BASE: u32 = 2 << 20;
/// The log is made durable at least this often during a run.
const SYNC_INTERVAL: Duration = Duration::from_millis(200);
/// Strip `s` of task `t`'s striped output is block `STRIPS_BASE | t << STRIP_BITS | s`.
const STRIPS_BASE: u32 = 1 << 31;
const STRIP_BITS: u32 = 12;
/// Tasks from this index on keep no strips (their ids would not fit).
const MAX_STRIPED_TASKS: usize = 1 << (31 - STRIP_BITS);
/// The default [`SessionSpec::strip_pixels`]: 50 megapixels.
pub const DEFAULT_STRIP_PIXELS: u64 = 50_000_000;
/// A compaction starts when the log grows past this.
const COMPACT_LOG_BYTES: u64 = 8 << 20;

/// What a session does: which inputs, where outputs go, with which options.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SessionSpec {
    /// Input files and directories (walked recursively).
    pub inputs: Vec<PathBuf>,
    /// The output directory. A single input directory maps onto it; with
    /// several inputs each directory keeps its own name below it.
    pub output_dir: PathBuf,
    /// Where the state lives; `None` means `OUTDIR/.pixpress-session`.
    pub state_dir: Option<PathBuf>,
    /// Options in the shared vocabulary, as `(key, value)` pairs for [`Options::set`].
    pub options: Vec<(String, String)>,
    /// Globs a file under an input directory must match (relative to that
    /// directory, such as `**/*.jpg`); empty means the image extensions.
    pub include: Vec<String>,
    /// Globs that exclude files under an input directory.
    pub exclude: Vec<String>,
    /// The output path below `output_dir`: `{path}` (relative path without
    /// extension), `{dir}`, `{name}` (file stem), `{ext}` (the output's
    /// extension), `{srcext}`. Default `{path}.{ext}`.
    pub naming: String,
    /// JPEG outputs of at least this many pixels are encoded in strips whose
    /// progress is checkpointed, so that a crash in the middle of a huge image
    /// resumes at the next strip (the output is then a baseline JPEG with
    /// standard Huffman tables, a few per cent larger). 0 turns this off.
    pub strip_pixels: u64,
    /// Worker threads; 0 means one per core. Not part of the job's identity.
    #[serde(skip)]
    pub jobs: usize,
}

impl Default for SessionSpec {
    fn default() -> Self {
        SessionSpec {
            inputs: Vec::new(),
            output_dir: PathBuf::new(),
            state_dir: None,
            options: Vec::new(),
            include: Vec::new(),
            exclude: Vec::new(),
            naming: DEFAULT_NAMING.to_string(),
            strip_pixels: DEFAULT_STRIP_PIXELS,
            jobs: 0,
        }
    }
}

impl SessionSpec {
    /// The state directory this spec uses.
    pub fn state_dir(&self) -> PathBuf {
        self.state_dir
            .clone()
            .unwrap_or_else(|| self.output_dir.join(STATE_DIR_NAME))
    }

    /// Whether a session already lives in [`state_dir`](Self::state_dir)
    /// (opening this spec then resumes it).
    pub fn has_state(&self) -> bool {
        store::exists(&self.state_dir())
    }

    /// Sets one field from its string form, as every face passes them:
    /// `input` (repeatable), `output`, `state`, `include` and `exclude`
    /// (repeatable globs), `naming`, `strip_pixels`, `jobs`; any other key is an option of
    /// the shared vocabulary ([`Options::set`]), checked here and kept as given.
    pub fn set(&mut self, key: &str, value: &str) -> Result<()> {
        match key {
            "input" => self.inputs.push(value.into()),
            "output" => self.output_dir = value.into(),
            "state" => self.state_dir = Some(value.into()),
            "include" => self.include.push(value.into()),
            "exclude" => self.exclude.push(value.into()),
            "naming" => self.naming = value.into(),
            "jobs" => self.jobs = parse_count(key, value)?,
            "strip_pixels" => self.strip_pixels = parse_count(key, value)?,
            _ => {
                Options::default().set(key, value)?;
                self.options.push((key.to_string(), value.to_string()));
            }
        }
        Ok(())
    }

    /// The options, parsed once.
    fn parse_options(&self) -> Result<Options> {
        Options::from_pairs(self.options.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    }

    /// Absolute paths, so the session can be resumed from any directory.
    fn absolute(mut self) -> Result<SessionSpec> {
        let absolute = |p: &Path| std::path::absolute(p).map_err(|e| Error::io(p, e));
        self.inputs = self
            .inputs
            .iter()
            .map(|p| absolute(p))
            .collect::<Result<_>>()?;
        self.output_dir = absolute(&self.output_dir)?;
        self.state_dir = self.state_dir.as_deref().map(absolute).transpose()?;
        Ok(self)
    }
}

fn parse_count<T: std::str::FromStr>(key: &str, value: &str) -> Result<T> {
    value
        .trim()
        .parse()
        .map_err(|_| Error::option(key, format!("`{value}` is not a count")))
}

/// Counts over a session's tasks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SessionStatus {
    /// Tasks in the job.
    pub total: usize,
    /// Tasks finished with a verified output.
    pub done: usize,
    /// Tasks that failed (see [`Session::failures`]).
    pub failed: usize,
    /// Tasks not yet done.
    pub pending: usize,
    /// Input bytes of the finished tasks.
    pub bytes_in: u64,
    /// Output bytes of the finished tasks.
    pub bytes_out: u64,
}

/// What happened to one task in a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskOutcome {
    /// The input was compressed and the output written.
    Compressed,
    /// Done in an earlier run; input unchanged and output intact, so skipped.
    Verified,
    /// The task failed; the job goes on.
    Failed {
        /// What kind of failure.
        kind: ErrorKind,
        /// The message.
        message: String,
    },
}

impl TaskOutcome {
    /// `"compressed"`, `"verified"` or `"failed"`, as every face reports it.
    pub fn name(&self) -> &'static str {
        match self {
            TaskOutcome::Compressed => "compressed",
            TaskOutcome::Verified => "verified",
            TaskOutcome::Failed { .. } => "failed",
        }
    }
}

/// The result of one task, as reported during a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskReport {
    /// The input file.
    pub input: PathBuf,
    /// The output file, when there is one.
    pub output: Option<PathBuf>,
    /// What happened.
    pub outcome: TaskOutcome,
}

/// A progress report, sent after each task of a run.
#[derive(Debug, Clone)]
pub struct BatchProgress {
    /// The counts so far (in this and earlier runs).
    pub status: SessionStatus,
    /// Tasks compressed per second in this run.
    pub rate: f64,
    /// Estimated time to finish the tasks left, at that rate.
    pub eta: Option<Duration>,
    /// The task just finished.
    pub task: TaskReport,
}

/// An open session. See the [module documentation](self).
#[derive(Debug)]
pub struct Session {
    job: Job,
    entries: Vec<Entry>,
    errors: BTreeMap<u32, String>,
    store: Store,
    watch: StatusWatch,
}

/// Reads a session's counts from any thread, also while [`Session::run`]
/// holds the session: the faces answer `status()` and `len()` from it, so a
/// progress callback or another thread never waits for the run to end.
#[derive(Debug, Clone, Default)]
pub struct StatusWatch(Arc<Mutex<SessionStatus>>);

impl StatusWatch {
    /// The counts as of the last finished task.
    pub fn get(&self) -> SessionStatus {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn set(&self, status: SessionStatus) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = status;
    }
}

/// The immutable part of a session, shared with the worker threads.
#[derive(Debug)]
struct Job {
    spec: SessionSpec,
    options: Options,
    plan: Plan,
}

#[derive(Serialize, Deserialize)]
struct Meta {
    version: u32,
    spec: SessionSpec,
    runs: u64,
}

impl Session {
    /// Creates a new session: lists the inputs and writes the initial state.
    /// Fails if the state directory already holds a session.
    pub fn create(spec: SessionSpec) -> Result<Session> {
        let spec = spec.absolute()?;
        let options = spec.parse_options()?;
        let state_dir = spec.state_dir();
        let plan = Plan::new(PlanSpec {
            inputs: &spec.inputs,
            output_dir: &spec.output_dir,
            skip: Some(&state_dir),
            include: &spec.include,
            exclude: &spec.exclude,
            naming: &spec.naming,
            extension: options.format.extension(),
        })?;
        let mut entries = vec![Entry::default(); plan.len()];
        let mut errors = BTreeMap::new();
        for (&index, (kind, message)) in plan.problems() {
            entries[index] = Entry {
                state: TaskState::Failed,
                error_kind: *kind as u8,
                ..Entry::default()
            };
            errors.insert(index as u32, message.clone());
        }
        let meta = Meta {
            version: 1,
            spec: spec.clone(),
            runs: 0,
        };
        let mut blocks = vec![
            (META_BLOCK, BlockKind::Meta, encode_meta(&meta)?),
            (
                TASKS_BLOCK,
                BlockKind::Data,
                task::encode_tasks(plan.tasks()),
            ),
        ];
        for page in 0..page_count(entries.len()) {
            blocks.push((
                INDEX_BASE + page as u32,
                BlockKind::Index,
                page_bytes(&entries, page),
            ));
        }
        for page in pages_of(&errors) {
            blocks.push((
                ERRORS_BASE + page,
                BlockKind::Data,
                encode_errors(&errors, page),
            ));
        }
        let store = Store::create(&state_dir, blocks)?;
        Ok(Session {
            job: Job {
                spec,
                options,
                plan,
            },
            entries,
            errors,
            store,
            watch: StatusWatch::default(),
        }
        .published())
    }

    /// Opens the session in `state_dir` to resume it.
    pub fn open(state_dir: &Path) -> Result<Session> {
        Session::from_store(state_dir, Store::open(state_dir)?)
    }

    /// Opens the session in `state_dir` to look at it (status, failures)
    /// while another process may be running it: no lock is taken and
    /// nothing is written; [`run`](Self::run) and
    /// [`retry_failed`](Self::retry_failed) fail. The counts are those of the
    /// last record the running process finished writing.
    pub fn open_read_only(state_dir: &Path) -> Result<Session> {
        Session::from_store(state_dir, Store::open_read_only(state_dir)?)
    }

    fn from_store(state_dir: &Path, store: Store) -> Result<Session> {
        let missing = |what: &str| Error::DamagedState(format!("no {what}"));
        let meta: Meta = serde_json::from_slice(store.block(META_BLOCK).ok_or(missing("spec"))?)
            .map_err(|e| Error::DamagedState(format!("spec: {e}")))?;
        let tasks = task::decode_tasks(store.block(TASKS_BLOCK).ok_or(missing("task list"))?)?;
        let mut entries = Vec::with_capacity(tasks.len());
        for page in 0..page_count(tasks.len()) {
            let bytes = store
                .block(INDEX_BASE + page as u32)
                .ok_or(missing("index page"))?;
            entries.extend(bytes.chunks_exact(ENTRY_SIZE).map(Entry::from_bytes));
        }
        entries.truncate(tasks.len());
        if entries.len() != tasks.len() {
            return Err(missing("entry for every task"));
        }
        let mut errors = BTreeMap::new();
        for page in 0..page_count(tasks.len()) as u32 {
            if let Some(bytes) = store.block(ERRORS_BASE + page) {
                decode_errors(bytes, &mut errors)?;
            }
        }
        let mut spec = meta.spec;
        if spec.state_dir.is_none() {
            // The state lives in the output directory and moves with it.
            let state_dir = std::path::absolute(state_dir).map_err(|e| Error::io(state_dir, e))?;
            if let Some(output_dir) = state_dir.parent() {
                spec.output_dir = output_dir.to_path_buf();
            }
        }
        let options = spec.parse_options()?;
        let plan = Plan::from_tasks(&spec.inputs, &spec.output_dir, &spec.naming, tasks)?;
        Ok(Session {
            job: Job {
                spec,
                options,
                plan,
            },
            entries,
            errors,
            store,
            watch: StatusWatch::default(),
        }
        .published())
    }

    /// Opens the session in `spec`'s state directory when there is one (it
    /// must be the same job), or creates it.
    pub fn open_or_create(spec: SessionSpec) -> Result<Session> {
        let spec = spec.absolute()?;
        let state_dir = spec.state_dir();
        if !store::exists(&state_dir) {
            return Session::create(spec);
        }
        let mut session = Session::open(&state_dir)?;
        let jobs = spec.jobs;
        if session.job.spec != (SessionSpec { jobs: 0, ..spec }) {
            return Err(Error::InvalidArgument(format!(
                "{} holds a different job (inputs, options, globs or naming differ); use another output or state directory",
                state_dir.display()
            )));
        }
        session.job.spec.jobs = jobs;
        Ok(session)
    }

    /// A handle on this session's counts, readable while it runs.
    pub fn watch(&self) -> StatusWatch {
        self.watch.clone()
    }

    /// Publishes the counts to the [`StatusWatch`].
    fn published(self) -> Session {
        self.watch.set(self.status());
        self
    }

    /// The job this session runs.
    pub fn spec(&self) -> &SessionSpec {
        &self.job.spec
    }

    /// Sets the number of worker threads for [`run`](Self::run) (0: one per core).
    pub fn set_jobs(&mut self, jobs: usize) {
        self.job.spec.jobs = jobs;
    }

    /// Counts over the tasks, from the state alone.
    pub fn status(&self) -> SessionStatus {
        let mut status = SessionStatus {
            total: self.entries.len(),
            ..Default::default()
        };
        for entry in &self.entries {
            match entry.state {
                TaskState::Done => {
                    status.done += 1;
                    status.bytes_in += entry.input_size;
                    status.bytes_out += entry.output_size;
                }
                TaskState::Failed => status.failed += 1,
                TaskState::Pending => status.pending += 1,
            }
        }
        status
    }

    /// The failed tasks: input, error kind and message.
    pub fn failures(&self) -> Vec<(PathBuf, ErrorKind, String)> {
        self.entries
            .iter()
            .enumerate()
            .filter(|(_, e)| e.state == TaskState::Failed)
            .map(|(i, e)| {
                (
                    self.job.input_path(i),
                    error_kind_from(e.error_kind),
                    self.errors.get(&(i as u32)).cloned().unwrap_or_default(),
                )
            })
            .collect()
    }

    /// Marks every failed task pending again, so the next run retries it.
    /// Returns how many there were.
    pub fn retry_failed(&mut self) -> Result<usize> {
        let failed: Vec<usize> = (0..self.entries.len())
            .filter(|&i| self.entries[i].state == TaskState::Failed)
            .collect();
        for &i in &failed {
            self.entries[i] = Entry::default();
            self.errors.remove(&(i as u32));
        }
        self.persist(&failed)?;
        self.store.sync()?;
        self.watch.set(self.status());
        Ok(failed.len())
    }

    /// Bytes written to the state directory since this handle was opened.
    pub fn state_bytes_written(&self) -> u64 {
        self.store.bytes_written()
    }

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
    fn persist(&mut self, indices: &[usize]) -> Result<()> {
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
        crate::metrics::record_stage(MetricStage::Checkpoint, checkpoint_started.elapsed());
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

impl Job {
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
        if data.len() as u64 != entry.output_size || crc32c::crc32c(&data) != entry.output_crc32c {
            return None;
        }
        // The input is identified by its content, never by size and mtime
        // alone (a copy that keeps both can still change the pixels).
        let input = self.input_path(index);
        let (size, mtime) = task::stat(&input).ok()?;
        let bytes = fs::read(&input).ok()?;
        (blake3::hash(&bytes).as_bytes() == &entry.input_blake3).then_some(Entry {
            input_size: size,
            input_mtime_ns: mtime,
            ..entry
        })
    }

    fn compress(&self, index: usize, input: &Path, link: StripLink) -> Result<Entry> {
        let (_, mtime) = task::stat(input).map_err(|e| Error::io(input, e))?;
        let data = fs::read(input).map_err(|e| Error::io(input, e))?;
        let input_blake3 = *blake3::hash(&data).as_bytes();
        let mut strips = TaskStrips {
            task: index,
            input_blake3,
            min_pixels: self.spec.strip_pixels,
            link,
        };
        let striped = self.spec.strip_pixels > 0 && index < MAX_STRIPED_TASKS;
        let out = crate::admitted_and_counted(
            || crate::budget::estimate_input(&data),
            data.len(),
            || {
                crate::pipeline::compress(
                    &data,
                    &self.options,
                    &mut crate::progress::Reporter::silent(),
                    striped.then_some(&mut strips as &mut dyn StripStore),
                )
            },
        )?;
        let path = self.output_path(index, out.format);
        self.plan.check_output(index, &path)?;
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        crate::io::write_atomic(&path, &out.data)?;
        Ok(Entry {
            state: TaskState::Done,
            error_kind: 0,
            format: Format::ALL
                .iter()
                .position(|f| *f == out.format)
                .unwrap_or(0) as u8,
            output_crc32c: crc32c::crc32c(&out.data),
            input_size: data.len() as u64,
            input_mtime_ns: mtime,
            output_size: out.data.len() as u64,
            input_blake3,
        })
    }

    fn input_path(&self, index: usize) -> PathBuf {
        self.plan.input(index)
    }

    /// Where task `index` writes when its output is `format`.
    fn output_path(&self, index: usize, format: Format) -> PathBuf {
        self.plan.output(index, format)
    }
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

/// The block ids of task `task`'s strips.
fn strip_ids(task: usize) -> std::ops::Range<u32> {
    let first = STRIPS_BASE | (task as u32) << STRIP_BITS;
    first..first + (1 << STRIP_BITS)
}

/// The strips kept for pending tasks, by task and strip; those of other tasks
/// (finished just before a crash) are removed from the store.
fn kept_strips(
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

/// Adds `entry` to the counts in `status`, or takes it out.
fn tally(status: &mut SessionStatus, entry: &Entry, add: bool) {
    let step = |n: &mut usize| *n = if add { *n + 1 } else { *n - 1 };
    match entry.state {
        TaskState::Done => {
            step(&mut status.done);
            let bytes = |n: &mut u64, by: u64| *n = if add { *n + by } else { *n - by };
            bytes(&mut status.bytes_in, entry.input_size);
            bytes(&mut status.bytes_out, entry.output_size);
        }
        TaskState::Failed => step(&mut status.failed),
        TaskState::Pending => step(&mut status.pending),
    }
}

/// A worker's result for one task.
enum Work {
    Verified(Entry),
    Compressed(Entry),
    Failed(ErrorKind, String),
}

fn encode_meta(meta: &Meta) -> Result<Vec<u8>> {
    serde_json::to_vec(meta).map_err(|e| Error::InvalidArgument(format!("session spec: {e}")))
}

fn page_count(tasks: usize) -> usize {
    tasks.div_ceil(ENTRIES_PER_PAGE)
}

/// Index page `page`: its entries, padded with empty ones to the full page size.
fn page_bytes(entries: &[Entry], page: usize) -> Vec<u8> {
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

fn pages_of(errors: &BTreeMap<u32, String>) -> Vec<u32> {
    let mut pages: Vec<u32> = errors.keys().map(|i| i / ENTRIES_PER_PAGE as u32).collect();
    pages.dedup();
    pages
}

/// The messages of page `page`'s failed tasks: `(task varint, length varint, UTF-8)`.
fn encode_errors(errors: &BTreeMap<u32, String>, page: u32) -> Vec<u8> {
    let first = page * ENTRIES_PER_PAGE as u32;
    let mut out = Vec::new();
    for (index, message) in errors.range(first..first + ENTRIES_PER_PAGE as u32) {
        delta::put_varint(&mut out, u64::from(*index));
        delta::put_varint(&mut out, message.len() as u64);
        out.extend_from_slice(message.as_bytes());
    }
    out
}

fn decode_errors(data: &[u8], errors: &mut BTreeMap<u32, String>) -> Result<()> {
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

fn error_kind_from(value: u8) -> ErrorKind {
    ErrorKind::from_number(u32::from(value)).unwrap_or(ErrorKind::Internal)
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
