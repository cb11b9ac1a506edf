//! `pixpress.Session`: resumable batch jobs. The run releases the GIL; the
//! progress callback takes it back for each report.

use crate::{errors, options};
use engine::{BatchProgress, SessionSpec, SessionStatus, TaskOutcome};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// A resumable batch job over files and directories, with its state in
/// `output/.pixpress-session` (or `state`). Creating one whose state exists
/// resumes it (it must be the same job). Options are the core's vocabulary
/// as keyword arguments.
#[pyclass(module = "pixpress._pixpress", frozen)]
pub struct Session {
    /// `None` once closed.
    inner: Mutex<Option<engine::Session>>,
    /// The counts, readable while `run` holds `inner`.
    watch: engine::StatusWatch,
    cancel: Arc<AtomicBool>,
}

fn status_dict<'py>(py: Python<'py>, s: &SessionStatus) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("total", s.total)?;
    d.set_item("done", s.done)?;
    d.set_item("failed", s.failed)?;
    d.set_item("pending", s.pending)?;
    d.set_item("bytes_in", s.bytes_in)?;
    d.set_item("bytes_out", s.bytes_out)?;
    Ok(d)
}

fn progress_dict<'py>(py: Python<'py>, p: &BatchProgress) -> PyResult<Bound<'py, PyDict>> {
    let d = status_dict(py, &p.status)?;
    d.set_item("rate", p.rate)?;
    d.set_item("eta", p.eta.map(|e| e.as_secs_f64()))?;
    d.set_item("input", &p.task.input)?;
    d.set_item("output", &p.task.output)?;
    let (code, error) = match &p.task.outcome {
        TaskOutcome::Failed { kind, message } => (Some(kind.code()), Some(message)),
        _ => (None, None),
    };
    d.set_item("outcome", p.task.outcome.name())?;
    d.set_item("code", code)?;
    d.set_item("error", error)?;
    Ok(d)
}

/// The error for calls on a closed session.
fn closed() -> PyErr {
    errors::to_py(engine::Error::InvalidArgument(
        "the session is closed".into(),
    ))
}

impl Session {
    fn wrap(session: engine::Session) -> Session {
        Session {
            watch: session.watch(),
            inner: Mutex::new(Some(session)),
            cancel: Arc::new(AtomicBool::new(false)),
        }
    }

    /// The session when no `run` holds it; otherwise a typed error at once
    /// (waiting, with the GIL held, would deadlock the run's callback).
    fn idle(&self, what: &str) -> PyResult<std::sync::MutexGuard<'_, Option<engine::Session>>> {
        match self.inner.try_lock() {
            Ok(guard) => Ok(guard),
            Err(std::sync::TryLockError::Poisoned(e)) => Ok(e.into_inner()),
            Err(std::sync::TryLockError::WouldBlock) => Err(errors::to_py(
                engine::Error::InvalidArgument(format!(
                    "the session is running: {what} is available once run() returns (status() and len() work meanwhile)"
                )),
            )),
        }
    }
}

#[pymethods]
impl Session {
    /// Opens the job in the state directory, or creates it by listing `inputs`.
    #[new]
    #[pyo3(signature = (inputs, output, *, state=None, include=None, exclude=None, naming=None, jobs=0, **options))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        inputs: Vec<PathBuf>,
        output: PathBuf,
        state: Option<PathBuf>,
        include: Option<Vec<String>>,
        exclude: Option<Vec<String>>,
        naming: Option<String>,
        jobs: usize,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Session> {
        let mut spec = SessionSpec {
            inputs,
            output_dir: output,
            state_dir: state,
            include: include.unwrap_or_default(),
            exclude: exclude.unwrap_or_default(),
            jobs,
            ..SessionSpec::default()
        };
        if let Some(naming) = naming {
            spec.naming = naming;
        }
        for (key, value) in options::pairs(options)? {
            spec.set(&key, &value).map_err(errors::to_py)?;
        }
        let session = py
            .detach(|| engine::Session::open_or_create(spec))
            .map_err(errors::to_py)?;
        Ok(Session::wrap(session))
    }

    /// Opens the session whose state is in `state_dir`, to resume it.
    #[staticmethod]
    fn open(py: Python<'_>, state_dir: PathBuf) -> PyResult<Session> {
        let session = py
            .detach(|| engine::Session::open(&state_dir))
            .map_err(errors::to_py)?;
        Ok(Session::wrap(session))
    }

    /// Counts over the tasks: total, done, failed, pending, bytes_in, bytes_out.
    fn status<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        status_dict(py, &self.watch.get())
    }

    /// The number of tasks in the job.
    fn __len__(&self) -> usize {
        self.watch.get().total
    }

    /// Runs the job to its end with the GIL released. `progress`, if given, is
    /// called with a dict after each task (input, output, outcome
    /// "compressed" / "verified" / "failed", code, error, done, total, rate,
    /// eta, ...); returning False stops the run once the tasks in flight
    /// finish (CancelledError), as does `cancel()`. An exception in the
    /// callback stops the run and is raised. Returns the status.
    #[pyo3(signature = (progress=None))]
    fn run<'py>(
        &self,
        py: Python<'py>,
        progress: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let callback = progress.map(|p| p.unbind());
        let mut raised: Option<PyErr> = None;
        let result = {
            let mut guard = self.idle("another run()")?;
            self.cancel.store(false, Ordering::SeqCst);
            let session = guard.as_mut().ok_or_else(closed)?;
            let cancel = Arc::clone(&self.cancel);
            py.detach(|| {
                let mut report = |p: &BatchProgress| -> bool {
                    let Some(callback) = &callback else {
                        return true;
                    };
                    Python::attach(|py| {
                        let outcome = progress_dict(py, p)
                            .and_then(|d| callback.bind(py).call1((d,)))
                            .and_then(|r| Ok(r.is_none() || r.is_truthy()?));
                        outcome.unwrap_or_else(|e| {
                            raised = Some(e);
                            false
                        })
                    })
                };
                session.run(&mut report, &cancel)
            })
        };
        if let Some(e) = raised {
            return Err(e);
        }
        let status = result.map_err(errors::to_py)?;
        status_dict(py, &status)
    }

    /// Closes the session: its state stays on disk and its lock is released,
    /// so another handle or process may open it; later calls fail.
    fn close(&self) -> PyResult<()> {
        self.idle("close()")?.take();
        Ok(())
    }

    /// Asks a running `run` to stop once the tasks in flight finish. Safe from any thread.
    fn cancel(&self) {
        self.cancel.store(true, Ordering::SeqCst);
    }

    /// Marks every failed task pending again so that the next run retries it;
    /// returns how many there were.
    fn retry_failed(&self, py: Python<'_>) -> PyResult<usize> {
        let mut guard = self.idle("retry_failed()")?;
        let session = guard.as_mut().ok_or_else(closed)?;
        py.detach(|| session.retry_failed()).map_err(errors::to_py)
    }

    /// The failed tasks as dicts: input, code, error.
    fn failures<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let failures = self
            .idle("failures()")?
            .as_ref()
            .ok_or_else(closed)?
            .failures();
        let list = PyList::empty(py);
        for (input, kind, message) in failures {
            let d = PyDict::new(py);
            d.set_item("input", input)?;
            d.set_item("code", kind.code())?;
            d.set_item("error", message)?;
            list.append(d)?;
        }
        Ok(list)
    }
}
