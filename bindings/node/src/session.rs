//! Resumable batch jobs: [`NativeSession`] (the `Session` class of index.js
//! wraps it with progress events and AbortSignal), its [`SessionProgress`]
//! and [`SessionFailure`]s.

use crate::errors::{Code, Failure, Fallible};
use crate::job::Job;
use crate::options::{option_value, SizeBox};
use napi::bindgen_prelude::*;
use napi_derive::napi;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// What a batch session compresses where (the rest of its spec is options).
#[napi(object)]
pub struct SessionJob {
    /// Input files and directories.
    pub input: Vec<String>,
    /// The output directory.
    pub output: String,
    /// The state directory (default: `.pixpress-session` in the output directory).
    pub state: Option<String>,
    /// Globs of files to take from input directories.
    pub include: Option<Vec<String>>,
    /// Globs of files to leave out.
    pub exclude: Option<Vec<String>>,
    /// The output naming rule.
    pub naming: Option<String>,
    /// Worker threads (0: one per core).
    pub jobs: Option<u32>,
}

/// Counts over a batch session's tasks, and the task finished last.
#[napi(object)]
#[derive(Clone, Default)]
pub struct SessionProgress {
    /// Tasks in the job.
    pub total: u32,
    /// Tasks finished with a verified output.
    pub done: u32,
    /// Tasks that failed.
    pub failed: u32,
    /// Tasks not yet done.
    pub pending: u32,
    /// Input bytes of the finished tasks.
    pub bytes_in: f64,
    /// Output bytes of the finished tasks.
    pub bytes_out: f64,
    /// Tasks compressed per second in the current run (0 outside a run).
    pub rate: f64,
    /// Seconds left at that rate, when known.
    pub eta: Option<f64>,
    /// The input of the task finished last in this run.
    pub last_input: Option<String>,
    /// Its outcome: "compressed", "verified" or "failed".
    pub last_outcome: Option<String>,
}

impl From<engine::SessionStatus> for SessionProgress {
    fn from(s: engine::SessionStatus) -> Self {
        SessionProgress {
            total: s.total as u32,
            done: s.done as u32,
            failed: s.failed as u32,
            pending: s.pending as u32,
            bytes_in: s.bytes_in as f64,
            bytes_out: s.bytes_out as f64,
            ..Default::default()
        }
    }
}

/// A failed task of a batch session.
#[napi(object)]
pub struct SessionFailure {
    /// The input file.
    pub input: String,
    /// The `PXP_ERR_*` code.
    pub code: String,
    /// The message.
    pub error: String,
}

/// The shared state of a native session: the session itself (locked by a
/// run), its cancel flag, and the latest progress for `status()` to read.
struct SessionShared {
    /// `None` once closed.
    session: std::sync::Mutex<Option<engine::Session>>,
    /// Set on the JS thread when `run()` is called and cleared when its
    /// promise settles, so calls between the two see the session as busy
    /// even before the pool thread takes the lock.
    running: AtomicBool,
    cancel: AtomicBool,
    latest: std::sync::Mutex<SessionProgress>,
}

/// A resumable batch job (the `Session` class of index.js wraps it with
/// progress events and AbortSignal).
#[napi]
pub struct NativeSession {
    shared: Arc<SessionShared>,
}

fn wrap_session(session: engine::Session) -> NativeSession {
    let latest = SessionProgress::from(session.status());
    NativeSession {
        shared: Arc::new(SessionShared {
            session: std::sync::Mutex::new(Some(session)),
            running: AtomicBool::new(false),
            cancel: AtomicBool::new(false),
            latest: std::sync::Mutex::new(latest),
        }),
    }
}

/// One session run on the libuv thread pool.
pub type RunTask = Job<engine::SessionStatus, SessionProgress>;

/// What a run task does, on a libuv pool thread: runs the session to its end,
/// keeping the latest progress for `status()`.
fn run_session(shared: &SessionShared) -> Fallible<engine::SessionStatus> {
    let mut guard = shared.session.lock().unwrap_or_else(|e| e.into_inner());
    let Some(session) = guard.as_mut() else {
        return Err(closed());
    };
    let mut report = |p: &engine::BatchProgress| {
        let mut latest = shared.latest.lock().unwrap_or_else(|e| e.into_inner());
        *latest = SessionProgress {
            rate: p.rate,
            eta: p.eta.map(|d| d.as_secs_f64()),
            last_input: Some(p.task.input.to_string_lossy().into_owned()),
            last_outcome: Some(p.task.outcome.name().into()),
            ..SessionProgress::from(p.status)
        };
        true
    };
    Ok(session.run(&mut report, &shared.cancel)?)
}

#[napi]
impl NativeSession {
    /// Opens the job in its state directory, or creates it: `job` says what
    /// to compress where, `options` are those of the shared vocabulary
    /// (`strip_pixels` too).
    #[napi(factory)]
    #[allow(clippy::type_complexity)] // the option object, spelled out for the TypeScript generator
    pub fn open_or_create(
        job: SessionJob,
        options: Option<
            HashMap<
                String,
                Option<Either5<String, f64, bool, Vec<Either3<String, f64, Null>>, SizeBox>>,
            >,
        >,
    ) -> Result<NativeSession, Code> {
        let mut parsed = engine::SessionSpec {
            inputs: job.input.into_iter().map(Into::into).collect(),
            output_dir: job.output.into(),
            state_dir: job.state.map(Into::into),
            include: job.include.unwrap_or_default(),
            exclude: job.exclude.unwrap_or_default(),
            jobs: job.jobs.unwrap_or(0) as usize,
            ..engine::SessionSpec::default()
        };
        if let Some(naming) = job.naming {
            parsed.naming = naming;
        }
        for (key, value) in options.unwrap_or_default() {
            let text = option_value(&key, value)?.to_text();
            parsed.set(&key, &text).map_err(Failure::from)?;
        }
        let session = engine::Session::open_or_create(parsed).map_err(Failure::from)?;
        Ok(wrap_session(session))
    }

    /// Opens the session whose state is in `stateDir`, to resume it.
    #[napi(factory)]
    pub fn open(state_dir: String) -> Result<NativeSession, Code> {
        let session = engine::Session::open(state_dir.as_ref()).map_err(Failure::from)?;
        Ok(wrap_session(session))
    }

    /// The latest counts (updated after each task while a run goes on).
    #[napi]
    pub fn status(&self) -> SessionProgress {
        self.shared
            .latest
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Runs the job to its end on the libuv thread pool (throws
    /// PXP_ERR_INVALID_ARGUMENT while another run of this session goes on).
    #[napi(ts_return_type = "Promise<SessionProgress>")]
    pub fn run(&self) -> Result<AsyncTask<RunTask>, Code> {
        if self.shared.running.swap(true, Ordering::SeqCst) {
            return Err(busy().into());
        }
        self.shared.cancel.store(false, Ordering::SeqCst);
        let shared = Arc::clone(&self.shared);
        let settled = Arc::clone(&self.shared);
        Ok(AsyncTask::new(
            RunTask::new(move || run_session(&shared), SessionProgress::from)
                .on_settle(move || settled.running.store(false, Ordering::SeqCst)),
        ))
    }

    /// Closes the session: its state stays on disk and its lock is released,
    /// so another handle (or process) may open it. Later calls fail.
    #[napi]
    pub fn close(&self) -> Result<(), Code> {
        self.idle()?.take();
        Ok(())
    }

    /// Stops a run once the tasks in flight finish (it rejects with PXP_ERR_CANCELLED).
    #[napi]
    pub fn cancel(&self) {
        self.shared.cancel.store(true, Ordering::SeqCst);
    }

    /// Marks failed tasks pending again for the next run; returns how many.
    #[napi]
    pub fn retry_failed(&self) -> Result<u32, Code> {
        let mut guard = self.idle()?;
        let session = guard.as_mut().ok_or_else(closed)?;
        let n = session.retry_failed().map_err(Failure::from)?;
        *self.shared.latest.lock().unwrap_or_else(|e| e.into_inner()) = session.status().into();
        Ok(n as u32)
    }

    /// The failed tasks.
    #[napi]
    pub fn failures(&self) -> Result<Vec<SessionFailure>, Code> {
        let guard = self.idle()?;
        let session = guard.as_ref().ok_or_else(closed)?;
        Ok(session
            .failures()
            .into_iter()
            .map(|(input, kind, error)| SessionFailure {
                input: input.to_string_lossy().into_owned(),
                code: kind.code().to_string(),
                error,
            })
            .collect())
    }
}

impl NativeSession {
    /// The session when no run holds it (never blocks the event loop).
    fn idle(&self) -> Result<std::sync::MutexGuard<'_, Option<engine::Session>>, Code> {
        if self.shared.running.load(Ordering::SeqCst) {
            return Err(busy().into());
        }
        match self.shared.session.try_lock() {
            Ok(guard) => Ok(guard),
            Err(std::sync::TryLockError::Poisoned(e)) => Ok(e.into_inner()),
            Err(std::sync::TryLockError::WouldBlock) => Err(busy().into()),
        }
    }
}

/// The error for calls on a closed session.
fn closed() -> Failure {
    Failure {
        code: engine::ErrorKind::InvalidArgument.code(),
        message: "the session is closed".into(),
    }
}

/// The error for calls that need an idle session while a run goes on.
fn busy() -> Failure {
    Failure {
        code: engine::ErrorKind::InvalidArgument.code(),
        message: "the session is running; wait for run() to settle".into(),
    }
}
