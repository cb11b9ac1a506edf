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
mod layout;
mod report;
mod run;
mod spec;
mod store;
mod task;

pub use crate::plan::{has_image_extension, IMAGE_EXTENSIONS};
pub use report::{BatchProgress, SessionStatus, StatusWatch, TaskOutcome, TaskReport};
pub use run::compress_as_batch;
pub use spec::{SessionSpec, DEFAULT_NAMING, DEFAULT_STRIP_PIXELS};
pub use task::{input_hash, output_checksum};

use crate::error::{Error, ErrorKind, Result};
use crate::plan::{Plan, PlanSpec};
use layout::{
    decode_errors, encode_errors, encode_meta, error_kind_from, page_bytes, page_count, pages_of,
    Meta, ERRORS_BASE, INDEX_BASE, META_BLOCK, TASKS_BLOCK,
};
use run::Job;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use store::{BlockKind, Store};
use task::{Entry, TaskState, ENTRY_SIZE};

/// The name of the state directory inside the output directory.
pub const STATE_DIR_NAME: &str = ".pixpress-session";

/// An open session. See the [module documentation](self).
#[derive(Debug)]
pub struct Session {
    job: Job,
    entries: Vec<Entry>,
    errors: BTreeMap<u32, String>,
    store: Store,
    watch: StatusWatch,
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
        let job = Job::new(spec, options, plan);
        Ok(Session::assembled(job, entries, errors, store))
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
        let job = Job::new(spec, options, plan);
        Ok(Session::assembled(job, entries, errors, store))
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

    /// The session of `job` with its state, its counts published to a new
    /// [`StatusWatch`].
    fn assembled(
        job: Job,
        entries: Vec<Entry>,
        errors: BTreeMap<u32, String>,
        store: Store,
    ) -> Session {
        let session = Session {
            job,
            entries,
            errors,
            store,
            watch: StatusWatch::default(),
        };
        session.watch.set(session.status());
        session
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
}
