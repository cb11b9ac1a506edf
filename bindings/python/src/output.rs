//! `Output` (an encoded file in library memory, exported through the buffer
//! protocol) and `Info` (what a probe read).

use engine::Compressed;
use pyo3::exceptions::PyBufferError;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};
use std::os::raw::c_int;

/// An encoded image. Its bytes stay in library memory: `memoryview(out)` and
/// `out.write_to(path)` do not copy them; `bytes(out)` makes the first copy.
#[pyclass(frozen, module = "pixpress")]
pub(crate) struct Output {
    compressed: Compressed,
}

impl Output {
    pub(crate) fn new(compressed: Compressed) -> Output {
        Output { compressed }
    }
}

#[pymethods]
impl Output {
    /// The format name: "jpeg", "png", "webp", "avif" or "heic".
    #[getter]
    fn format(&self) -> &'static str {
        self.compressed.format.name()
    }

    /// The file name extension of the format, without the dot (`jpg` for JPEG).
    #[getter]
    fn extension(&self) -> &'static str {
        self.compressed.format.extension()
    }

    /// Width in pixels, as displayed.
    #[getter]
    fn width(&self) -> u32 {
        self.compressed.width
    }

    /// Height in pixels, as displayed.
    #[getter]
    fn height(&self) -> u32 {
        self.compressed.height
    }

    /// `(width, height)`.
    #[getter]
    fn size(&self) -> (u32, u32) {
        (self.compressed.width, self.compressed.height)
    }

    /// True when the input was returned unchanged because re-encoding would
    /// not have made it smaller (the `never_larger` option).
    #[getter]
    fn unchanged(&self) -> bool {
        self.compressed.unchanged
    }

    /// Frames of the input in the output: above 1 for an animated WebP (which may merge a frame identical to the one before).
    #[getter]
    fn frames(&self) -> u32 {
        self.compressed.frames
    }

    /// Frames of an animated input not written (the output format cannot
    /// animate, or `pages` kept fewer).
    #[getter]
    fn frames_dropped(&self) -> u32 {
        self.compressed.frames_dropped
    }

    /// Seconds spent decoding, transforming and encoding.
    #[getter]
    fn timings<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let t = self.compressed.timings;
        let d = PyDict::new(py);
        d.set_item("decode", t.decode.as_secs_f64())?;
        d.set_item("transform", t.transform.as_secs_f64())?;
        d.set_item("encode", t.encode.as_secs_f64())?;
        Ok(d)
    }

    /// What the search for the `target` option did, or None without one:
    /// `target`, `metric`, `score` (of this file), `aim` (the score searched
    /// for: the target plus the margin that keeps it for other scorers and
    /// decoders), `bytes`, `quality` (None
    /// for lossless), `trials`, `full_encodes`, `sampled`, `seconds`, and
    /// `tuned` (with the `tune` option: the value chosen for each parameter).
    #[getter]
    fn search<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        self.compressed
            .search
            .as_ref()
            .map(|s| search_dict(py, s))
            .transpose()
    }

    /// With `format="auto"`, every format tried, in order: dicts with
    /// `format` and either `search` (as `Output.search`) or `error` (why it
    /// could not meet the target). Empty otherwise.
    #[getter]
    fn candidates<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyDict>>> {
        self.compressed
            .candidates
            .iter()
            .map(|c| {
                let d = PyDict::new(py);
                d.set_item("format", c.format.name())?;
                match &c.result {
                    Ok(search) => d.set_item("search", search_dict(py, search)?)?,
                    Err(error) => d.set_item("error", error)?,
                }
                Ok(d)
            })
            .collect()
    }

    /// What the metadata policy and the conversion did: `removed` (fields
    /// as `EXIF:GPS:GPSLatitude`, `XMP:exif:GPSLatitude`, `IPTC:City`,
    /// `ICC`), `moved` (as `IPTC:City -> XMP:photoshop:City`), `changed`
    /// (values rewritten, as a coarsened GPS position) and `restore_record`
    /// (bytes for `restore_metadata`, with `restore_record=True`; else None).
    #[getter]
    fn metadata<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let report = &self.compressed.metadata;
        let d = PyDict::new(py);
        d.set_item("removed", &report.removed)?;
        d.set_item("moved", &report.moved)?;
        d.set_item("changed", &report.changed)?;
        let record = report
            .restore_record
            .as_deref()
            .map(|r| PyBytes::new(py, r));
        d.set_item("restore_record", record)?;
        Ok(d)
    }

    /// Writes the bytes to `path` atomically (temporary file, then rename),
    /// and the restore record, when the options asked for one, beside it as
    /// `path.pxpr` (what `pixpress meta restore` reads).
    fn write_to(&self, py: Python<'_>, path: std::path::PathBuf) -> PyResult<()> {
        let out = &self.compressed;
        py.detach(|| engine::write_output(&path, &out.data, out.metadata.restore_record.as_deref()))
            .map_err(crate::errors::to_py)
    }

    fn __len__(&self) -> usize {
        self.compressed.data.len()
    }

    fn __bytes__<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.compressed.data)
    }

    fn __repr__(&self) -> String {
        format!(
            "<pixpress.Output {} {}x{} {} bytes>",
            self.compressed.format,
            self.compressed.width,
            self.compressed.height,
            self.compressed.data.len()
        )
    }

    unsafe fn __getbuffer__(
        slf: Bound<'_, Self>,
        view: *mut ffi::Py_buffer,
        flags: c_int,
    ) -> PyResult<()> {
        let data = &slf.get().compressed.data;
        export(slf.as_any(), data, view, flags)
    }

    unsafe fn __releasebuffer__(&self, _view: *mut ffi::Py_buffer) {}
}

/// Fills `view` with read-only bytes owned by `owner`, which the view keeps alive.
pub(crate) fn export(
    owner: &Bound<'_, PyAny>,
    data: &[u8],
    view: *mut ffi::Py_buffer,
    flags: c_int,
) -> PyResult<()> {
    if view.is_null() {
        return Err(PyBufferError::new_err("no view to fill"));
    }
    // SAFETY: `view` is non-null (checked) and, from `__getbuffer__`, the
    // interpreter's Py_buffer to fill; `owner` is a live object (the GIL is
    // held) to which PyBuffer_FillInfo takes a new reference, and `data` is
    // owned by `owner`'s frozen (never mutated) pyclass, so it stays valid
    // and unmoved while the view lives. `readonly = 1` makes a writable
    // request fail instead of casting away `const`; a Vec's length fits
    // `Py_ssize_t`. (`export` is a safe fn given a raw `view`: sound only
    // through its `__getbuffer__` callers.)
    let status = unsafe {
        ffi::PyBuffer_FillInfo(
            view,
            owner.as_ptr(),
            data.as_ptr() as *mut std::ffi::c_void,
            data.len() as ffi::Py_ssize_t,
            1,
            flags,
        )
    };
    if status == 0 {
        Ok(())
    } else {
        Err(PyErr::fetch(owner.py()))
    }
}

/// Header facts about an image, from `probe`.
#[pyclass(frozen, get_all, module = "pixpress")]
pub(crate) struct Info {
    /// The container format: "jpeg", "png", "webp", "avif", "heic", "gif", "tiff" or "bmp".
    format: &'static str,
    /// Stored width in pixels (HEIF/AVIF: after irot/imir).
    width: u32,
    /// Stored height in pixels.
    height: u32,
    /// Bits per sample of the source.
    bit_depth: u8,
    /// Whether the image has alpha or transparency.
    has_alpha: bool,
    /// The EXIF orientation, 1-8.
    orientation: u16,
    /// Frames, pages or top-level images.
    frames: u32,
    /// Whether an EXIF block is present.
    has_exif: bool,
    /// Whether an XMP packet is present.
    has_xmp: bool,
    /// Whether an ICC profile is present.
    has_icc: bool,
    /// Whether IPTC data is present.
    has_iptc: bool,
    /// Stated resolution in pixels per inch `(x, y)`, or None.
    dpi: Option<(f64, f64)>,
}

impl From<engine::Info> for Info {
    fn from(i: engine::Info) -> Info {
        Info {
            format: i.format.name(),
            width: i.width,
            height: i.height,
            bit_depth: i.bit_depth,
            has_alpha: i.has_alpha,
            orientation: i.orientation,
            frames: i.frames,
            has_exif: i.has_exif,
            has_xmp: i.has_xmp,
            has_icc: i.has_icc,
            has_iptc: i.has_iptc,
            dpi: i.dpi,
        }
    }
}

#[pymethods]
impl Info {
    /// `(width, height)`.
    #[getter]
    fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    fn __repr__(&self) -> String {
        format!(
            "<pixpress.Info {} {}x{} {}-bit alpha={} orientation={} frames={}>",
            self.format,
            self.width,
            self.height,
            self.bit_depth,
            self.has_alpha,
            self.orientation,
            self.frames
        )
    }
}

/// A target search's report as a dict.
fn search_dict<'py>(py: Python<'py>, s: &engine::SearchReport) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("target", s.target.to_string())?;
    d.set_item("metric", s.metric.name())?;
    d.set_item("score", s.score)?;
    d.set_item("aim", s.aim)?;
    d.set_item("bytes", s.bytes)?;
    d.set_item("quality", s.quality)?;
    d.set_item("trials", s.trials)?;
    d.set_item("full_encodes", s.full_encodes)?;
    d.set_item("sampled", s.sampled)?;
    d.set_item("seconds", s.time.as_secs_f64())?;
    let tuned = PyDict::new(py);
    for (key, value) in &s.tuned {
        tuned.set_item(key, value)?;
    }
    d.set_item("tuned", tuned)?;
    Ok(d)
}
