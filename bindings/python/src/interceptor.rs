//! Metadata interceptors from Python: a callable given a `MetadataEdit` (a
//! copy of the metadata about to be written) just before it is written.

use crate::errors;
use pyo3::prelude::*;
use pyo3::types::PyList;
use std::sync::{Arc, Mutex};

/// A Python callable as a core interceptor. Runs with the GIL taken back
/// (the compress around it runs without it).
pub(crate) struct PyInterceptor {
    callable: Py<PyAny>,
    /// A `BaseException` that is not an `Exception` (KeyboardInterrupt,
    /// SystemExit) the callable raised: the call re-raises it as it is
    /// instead of an InterceptorError (see [`take_interrupt`]).
    interrupt: Arc<Mutex<Option<PyErr>>>,
}

thread_local! {
    /// The interrupt slot of the interceptor the calling thread parsed last.
    static CALL_INTERRUPT: std::cell::RefCell<Option<Arc<Mutex<Option<PyErr>>>>> =
        const { std::cell::RefCell::new(None) };
}

/// The KeyboardInterrupt (or other non-`Exception` `BaseException`) the
/// calling thread's last interceptor raised, if any: an interceptor failure
/// is then raised as that, so Ctrl-C stops the script as Python means it to.
pub(crate) fn take_interrupt() -> Option<PyErr> {
    CALL_INTERRUPT.with(|slot| {
        let slot = slot.borrow();
        let mut pending = slot.as_ref()?.lock().ok()?;
        pending.take()
    })
}

impl PyInterceptor {
    /// The core interceptor for `callable`, which must be callable.
    pub(crate) fn wrap(callable: &Bound<'_, PyAny>) -> PyResult<engine::Interceptor> {
        if !callable.is_callable() {
            return Err(errors::invalid(
                "invalid option `interceptor`: expected a callable taking a MetadataEdit",
            ));
        }
        let interrupt = Arc::new(Mutex::new(None));
        CALL_INTERRUPT.with(|slot| *slot.borrow_mut() = Some(Arc::clone(&interrupt)));
        Ok(engine::Interceptor::new(PyInterceptor {
            callable: callable.clone().unbind(),
            interrupt,
        }))
    }
}

impl engine::MetadataInterceptor for PyInterceptor {
    fn intercept(&self, edit: &mut engine::MetadataEdit) -> Result<(), String> {
        let shared = Arc::new(Mutex::new(edit.clone()));
        Python::attach(|py| {
            let handle = MetadataEdit {
                inner: shared.clone(),
            };
            self.callable.call1(py, (handle,)).map(|_| ()).map_err(|e| {
                let message = format!("the Python interceptor raised {e}");
                if !e.is_instance_of::<pyo3::exceptions::PyException>(py) {
                    if let Ok(mut pending) = self.interrupt.lock() {
                        *pending = Some(e);
                    }
                }
                message
            })
        })?;
        *edit = shared.lock().map_err(|_| "edit poisoned")?.clone();
        Ok(())
    }
}

/// The metadata about to be written, for an interceptor to read and edit.
/// Keys are ``BLOCK:group:Name`` as ``read_metadata`` lists them
/// (``EXIF:IFD0:Artist``, ``XMP:dc:rights``, ``IPTC:City``).
#[pyclass(module = "pixpress")]
pub(crate) struct MetadataEdit {
    inner: Arc<Mutex<engine::MetadataEdit>>,
}

impl MetadataEdit {
    fn with<T>(&self, f: impl FnOnce(&mut engine::MetadataEdit) -> T) -> PyResult<T> {
        let mut edit = self
            .inner
            .lock()
            .map_err(|_| errors::invalid("metadata edit poisoned"))?;
        Ok(f(&mut edit))
    }
}

#[pymethods]
impl MetadataEdit {
    /// Every field, as ``read_metadata`` lists them.
    fn fields<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let fields = self.with(|e| e.fields())?;
        let dicts = fields
            .iter()
            .map(|f| crate::field_dict(py, f))
            .collect::<PyResult<Vec<_>>>()?;
        PyList::new(py, dicts)
    }

    /// Sets a field (EXIF text and integer fields, XMP simple properties, IPTC datasets).
    fn set(&self, key: &str, value: &str) -> PyResult<()> {
        self.with(|e| e.set(key, value))?.map_err(errors::to_py)
    }

    /// Removes a field (``ICC`` removes the profile); returns whether it was there.
    fn remove(&self, key: &str) -> PyResult<bool> {
        self.with(|e| e.remove(key))?.map_err(errors::to_py)
    }

    /// The output format (``"jpeg"``, ``"webp"``...).
    #[getter]
    fn format(&self) -> PyResult<&'static str> {
        self.with(|e| e.format().name())
    }

    /// The output size ``(width, height)``.
    #[getter]
    fn size(&self) -> PyResult<(u32, u32)> {
        self.with(|e| (e.width(), e.height()))
    }
}
