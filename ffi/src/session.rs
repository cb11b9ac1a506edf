//! `pxp_session`: resumable batch jobs whose state survives a crash.

use crate::boundary::{self, arg, arg_mut, init_out, path, text};
use crate::status::pxp_status;
use engine::{BatchProgress, Error, Session, SessionSpec, SessionStatus, StatusWatch, TaskOutcome};
use std::ffi::{c_char, c_void, CString};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, TryLockError};

/// What a batch job does, built key by key with pxp_session_spec_set.
pub struct pxp_session_spec {
    inner: SessionSpec,
}

/// An open batch session. pxp_session_status and pxp_session_cancel may be
/// called from any thread at any time, also from a progress callback during
/// pxp_session_run; pxp_session_run and pxp_session_retry_failed called while
/// a run holds the session fail at once with PXP_ERR_INVALID_ARGUMENT.
pub struct pxp_session {
    session: Mutex<Session>,
    watch: StatusWatch,
    cancel: AtomicBool,
}

/// The session when no run holds it; a typed error at once otherwise (a
/// callback waiting for its own run would never return).
fn idle<'a>(handle: &'a pxp_session, what: &str) -> Result<MutexGuard<'a, Session>, Error> {
    match handle.session.try_lock() {
        Ok(guard) => Ok(guard),
        Err(TryLockError::Poisoned(e)) => Ok(e.into_inner()),
        Err(TryLockError::WouldBlock) => Err(Error::InvalidArgument(format!(
            "the session is running: {what} waits until pxp_session_run returns"
        ))),
    }
}

/// Counts over a session's tasks, and during a run the task just finished.
/// The caller of pxp_session_status sets `struct_size`; progress callbacks
/// get one filled by the library.
#[repr(C)]
pub struct pxp_session_counts {
    /// `sizeof(pxp_session_counts)`, set by whoever allocates it.
    pub struct_size: usize,
    /// Tasks in the job.
    pub total: usize,
    /// Tasks finished with a verified output.
    pub done: usize,
    /// Tasks that failed.
    pub failed: usize,
    /// Tasks not yet done.
    pub pending: usize,
    /// Input bytes of the finished tasks.
    pub bytes_in: u64,
    /// Output bytes of the finished tasks.
    pub bytes_out: u64,
    /// Tasks compressed per second in this run (progress reports only; else 0).
    pub rate: f64,
    /// Seconds left at that rate; negative when unknown.
    pub eta_seconds: f64,
    /// The input of the task just finished (progress reports only; else NULL),
    /// valid during the callback.
    pub task_input: *const c_char,
    /// What happened to it: PXP_OK when compressed, -1 when verified and
    /// skipped, else the failure's status (progress reports only; else 0).
    pub task_status: i32,
}

/// Called after each task of a run with the counts so far; a non-zero
/// return stops the run once the tasks in flight finish (PXP_ERR_CANCELLED).
pub type pxp_session_progress_fn =
    Option<unsafe extern "C" fn(user_data: *mut c_void, status: *const pxp_session_counts) -> i32>;

/// A new, empty spec. Free it with pxp_session_spec_free.
#[no_mangle]
pub extern "C" fn pxp_session_spec_new() -> *mut pxp_session_spec {
    boundary::value(std::ptr::null_mut(), || {
        Box::into_raw(Box::new(pxp_session_spec {
            inner: SessionSpec::default(),
        }))
    })
}

/// Sets one field: `input` (repeatable: a file or a directory, walked
/// recursively), `output` (the output directory), `state` (default
/// OUTPUT/.pixpress-session), `include` and `exclude` (repeatable globs
/// relative to an input directory), `naming` (default `{path}.{ext}`),
/// `jobs`; any other key is an option of the shared vocabulary, as in
/// pxp_options_set.
///
/// # Safety
/// `spec` is NULL or a live handle; `key` and `value` are NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn pxp_session_spec_set(
    spec: *mut pxp_session_spec,
    key: *const c_char,
    value: *const c_char,
) -> pxp_status {
    boundary::status(|| {
        // SAFETY: by this export's contract `spec` is NULL or a live handle,
        // which the caller does not use elsewhere during this setter.
        let spec = unsafe { arg_mut(spec, "spec") }?;
        // SAFETY: by this export's contract `key` is NULL or a NUL-terminated
        // string, alive and unchanged during the call.
        let key = unsafe { text(key, "key") }?;
        // SAFETY: as above, for `value`.
        let value = unsafe { text(value, "value") }?;
        spec.inner.set(key, value)
    })
}

/// Frees a spec; NULL does nothing.
///
/// # Safety
/// `spec` is NULL or a live handle, not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn pxp_session_spec_free(spec: *mut pxp_session_spec) {
    // SAFETY: by this export's contract `spec` is NULL or a live spec made by
    // this library (`Box::into_raw`), not used afterwards.
    unsafe { boundary::free_handle(spec) }
}

fn handle(session: Session) -> *mut pxp_session {
    Box::into_raw(Box::new(pxp_session {
        watch: session.watch(),
        session: Mutex::new(session),
        cancel: AtomicBool::new(false),
    }))
}

/// Opens the session of `spec`'s state directory when there is one (it must
/// hold the same job, or PXP_ERR_INVALID_ARGUMENT), or creates it by listing
/// the inputs. Free the result with pxp_session_free.
///
/// # Safety
/// `spec` is NULL or a live handle; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn pxp_session_open_or_create(
    spec: *const pxp_session_spec,
    out: *mut *mut pxp_session,
) -> pxp_status {
    boundary::status(|| {
        // SAFETY: by this export's contract `out` is NULL (refused by `init_out`)
        // or a writable `*mut` slot the caller does not touch during the call.
        let slot = unsafe { init_out(out) }?;
        // SAFETY: by this export's contract `spec` is NULL or a live handle,
        // only read (cloned) here.
        let spec = unsafe { arg(spec, "spec") }?;
        *slot = handle(Session::open_or_create(spec.inner.clone())?);
        Ok(())
    })
}

/// Opens the session whose state is in `state_dir`, to resume it.
///
/// # Safety
/// `state_dir` is NULL or NUL-terminated; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn pxp_session_open(
    state_dir: *const c_char,
    out: *mut *mut pxp_session,
) -> pxp_status {
    boundary::status(|| {
        // SAFETY: by this export's contract `out` is NULL (refused by `init_out`)
        // or a writable `*mut` slot the caller does not touch during the call.
        let slot = unsafe { init_out(out) }?;
        // SAFETY: by this export's contract `state_dir` is NULL or a
        // NUL-terminated string, alive and unchanged during the call.
        let dir = unsafe { path(state_dir, "state_dir") }?;
        *slot = handle(Session::open(dir)?);
        Ok(())
    })
}

fn counts(s: &SessionStatus) -> pxp_session_counts {
    pxp_session_counts {
        struct_size: std::mem::size_of::<pxp_session_counts>(),
        total: s.total,
        done: s.done,
        failed: s.failed,
        pending: s.pending,
        bytes_in: s.bytes_in,
        bytes_out: s.bytes_out,
        rate: 0.0,
        eta_seconds: -1.0,
        task_input: std::ptr::null(),
        task_status: 0,
    }
}

/// Runs the job to its end on `jobs` worker threads (see the spec), calling
/// `progress` (may be NULL) with `user_data` after each task, on this thread.
/// Failed tasks are recorded (pxp_session_status counts them) and do not
/// stop the run. Returns PXP_ERR_CANCELLED when stopped by the callback or
/// pxp_session_cancel; everything finished so far is kept.
///
/// # Safety
/// `session` is NULL or a live handle; `progress` is NULL or safe to call
/// with `user_data`.
#[no_mangle]
pub unsafe extern "C" fn pxp_session_run(
    session: *const pxp_session,
    progress: pxp_session_progress_fn,
    user_data: *mut c_void,
) -> pxp_status {
    boundary::status(|| {
        // SAFETY: by this export's contract `session` is NULL or a live handle;
        // it is only borrowed shared (its state is behind a Mutex and atomics).
        let handle = unsafe { arg(session, "session") }?;
        let mut session = idle(handle, "another pxp_session_run")?;
        handle.cancel.store(false, Ordering::SeqCst);
        let mut report = |p: &BatchProgress| {
            let Some(callback) = progress else {
                return true;
            };
            let input =
                CString::new(p.task.input.as_os_str().as_encoded_bytes()).unwrap_or_default();
            let mut c = counts(&p.status);
            c.rate = p.rate;
            c.eta_seconds = p.eta.map_or(-1.0, |d| d.as_secs_f64());
            c.task_input = input.as_ptr();
            c.task_status = match &p.task.outcome {
                TaskOutcome::Compressed => 0,
                TaskOutcome::Verified => -1,
                TaskOutcome::Failed { kind, .. } => *kind as i32,
            };
            // SAFETY: by this export's contract `callback` is safe to call
            // with `user_data`; `c`, and the `input` string it points to, are
            // locals alive for the call, which runs on this (the calling) thread.
            unsafe { callback(user_data, &c) == 0 }
        };
        session.run(&mut report, &handle.cancel).map(drop)
    })
}

/// Asks a running pxp_session_run to stop once the tasks in flight finish.
/// Safe from any thread, including a signal-free watchdog; NULL does nothing.
///
/// # Safety
/// `session` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn pxp_session_cancel(session: *const pxp_session) {
    // SAFETY: by this export's contract `session` is NULL or a live handle; it
    // is immutable, so reading it from any thread is sound. (`cancel` is atomic)
    unsafe { boundary::read_handle(session, (), |s| s.cancel.store(true, Ordering::SeqCst)) }
}

/// Fills `status` with the counts over the session's tasks. The caller sets
/// `status->struct_size = sizeof(pxp_session_counts)`.
///
/// # Safety
/// `session` is NULL or a live handle; `status` is NULL or points to
/// `status->struct_size` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn pxp_session_status(
    session: *const pxp_session,
    status: *mut pxp_session_counts,
) -> pxp_status {
    boundary::status(|| {
        // SAFETY: by this export's contract `session` is NULL or a live handle;
        // it is only borrowed shared (its state is behind a Mutex and atomics).
        let handle = unsafe { arg(session, "session") }?;
        // SAFETY: by this export's contract `status` is NULL or points to a
        // struct that begins with its `size_t struct_size`, which is all this reads.
        let len = unsafe { boundary::sized_len(status, "status", "pxp_session_counts") }?;
        if len < std::mem::size_of::<pxp_session_counts>() {
            return Err(boundary::invalid(
                "`status->struct_size` is smaller than this library's pxp_session_counts",
            ));
        }
        // SAFETY: `status` is non-null with `struct_size` writable bytes
        // (contract), at least `len`, which is size_of::<pxp_session_counts>().
        unsafe { boundary::write_prefix(status, &counts(&handle.watch.get()), len) };
        Ok(())
    })
}

/// Marks every failed task pending again so that the next run retries it;
/// `*count` (may be NULL) receives how many there were.
///
/// # Safety
/// `session` is NULL or a live handle; `count` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn pxp_session_retry_failed(
    session: *const pxp_session,
    count: *mut usize,
) -> pxp_status {
    boundary::status(|| {
        // SAFETY: by this export's contract `session` is NULL or a live handle;
        // it is only borrowed shared (its state is behind a Mutex and atomics).
        let handle = unsafe { arg(session, "session") }?;
        let n = idle(handle, "pxp_session_retry_failed")?.retry_failed()?;
        // SAFETY: by this export's contract `count` is NULL (`None`) or a
        // writable, aligned `usize` the caller does not touch during the call.
        if let Some(count) = unsafe { count.as_mut() } {
            *count = n;
        }
        Ok(())
    })
}

/// Closes a session (its state stays on disk); NULL does nothing.
///
/// # Safety
/// `session` is NULL or a live handle, not used afterwards and not running.
#[no_mangle]
pub unsafe extern "C" fn pxp_session_free(session: *mut pxp_session) {
    // SAFETY: by this export's contract `session` is NULL or a live handle made by
    // this library (`Box::into_raw`), not used afterwards.
    // The contract also rules out a run in progress on it.
    unsafe { boundary::free_handle(session) }
}
