//! What a session reports: its counts, each task's outcome, progress during
//! a run, and the [`StatusWatch`] that reads the counts from any thread.

use super::task::{Entry, TaskState};
#[cfg(doc)]
use super::Session;
use crate::error::ErrorKind;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

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

    pub(super) fn set(&self, status: SessionStatus) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = status;
    }
}

/// Adds `entry` to the counts in `status`, or takes it out.
pub(super) fn tally(status: &mut SessionStatus, entry: &Entry, add: bool) {
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
