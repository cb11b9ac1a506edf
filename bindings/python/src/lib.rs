//! `pixpress._pixpress`: the native half of the Python package. Every call
//! that decodes, transforms or encodes releases the GIL; read-only inputs are
//! read in place through the buffer protocol (writable ones copied once), and
//! outputs are exported the same way.

mod errors;
mod interceptor;
mod jobs;
mod options;
mod output;
mod pixels;
mod session;

use output::{Info, Output};
use pixels::Pixels;
use pyo3::buffer::PyBuffer;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyTuple};

/// The bytes of any C-contiguous bytes-like object: read in place when the
/// exporter is read-only (`bytes`, a read-only `memoryview`, `mmap` opened for
/// reading), copied once when it is writable (`bytearray`, numpy), since
/// another Python thread may write it while the GIL is released.
pub(crate) enum Bytes {
    /// A read-only export, held for as long as the bytes are read.
    Borrowed(PyBuffer<u8>),
    /// A copy of a writable buffer's bytes.
    Copied(Vec<u8>),
}

impl Bytes {
    pub(crate) fn new(data: &Bound<'_, PyAny>) -> PyResult<Bytes> {
        let buffer = PyBuffer::<u8>::get(data)?;
        if !buffer.is_c_contiguous() {
            return Err(errors::invalid("input buffer must be C-contiguous"));
        }
        if buffer.readonly() {
            return Ok(Bytes::Borrowed(buffer));
        }
        Ok(Bytes::Copied(buffer.to_vec(data.py())?))
    }

    /// The bytes, valid for the borrow of `self`.
    pub(crate) fn as_slice(&self) -> &[u8] {
        match self {
            Bytes::Borrowed(buffer) if buffer.len_bytes() > 0 => {
                // SAFETY: `PyBuffer::<u8>::get` checked the item type is u8 and
                // `new` that the buffer is C-contiguous and read-only, so
                // `buf_ptr` (non-null for a non-empty export) starts
                // `len_bytes()` initialised bytes that no one writes; the
                // export held by `self` keeps them allocated for the borrow.
                unsafe {
                    std::slice::from_raw_parts(buffer.buf_ptr().cast::<u8>(), buffer.len_bytes())
                }
            }
            Bytes::Borrowed(_) => &[],
            Bytes::Copied(bytes) => bytes,
        }
    }
}

/// Compresses an encoded image (any bytes-like object, read in place) with the
/// core's options as keyword arguments. Returns an Output whose bytes live in
/// library memory.
#[pyfunction]
#[pyo3(signature = (data, **options))]
fn compress(
    py: Python<'_>,
    data: &Bound<'_, PyAny>,
    options: Option<&Bound<'_, PyDict>>,
) -> PyResult<Output> {
    run_on_bytes(py, data, options, engine::compress)
}

/// Runs `work` on the bytes of `data` (read in place) with the parsed
/// options, without the GIL.
pub(crate) fn run_on_bytes(
    py: Python<'_>,
    data: &Bound<'_, PyAny>,
    options: Option<&Bound<'_, PyDict>>,
    work: impl FnOnce(&[u8], &engine::Options) -> engine::Result<engine::Compressed> + Send,
) -> PyResult<Output> {
    let options = options::parse(options)?;
    let input = Bytes::new(data)?;
    let slice = input.as_slice();
    let compressed = py.detach(|| work(slice, &options)).map_err(errors::to_py)?;
    Ok(Output::new(compressed))
}

/// Reads `src`, compresses it and writes `dst` atomically (no partial file on failure).
#[pyfunction]
#[pyo3(signature = (src, dst, **options))]
fn compress_file(
    py: Python<'_>,
    src: std::path::PathBuf,
    dst: std::path::PathBuf,
    options: Option<&Bound<'_, PyDict>>,
) -> PyResult<Output> {
    let options = options::parse(options)?;
    let compressed = py
        .detach(|| engine::compress_file(&src, &dst, &options))
        .map_err(errors::to_py)?;
    Ok(Output::new(compressed))
}

/// Reads format, size, bit depth, alpha, orientation, frames and which metadata
/// blocks are present from the headers, without decoding pixels.
#[pyfunction]
fn probe(py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<Info> {
    let input = Bytes::new(data)?;
    let slice = input.as_slice();
    let info = py.detach(|| engine::probe(slice)).map_err(errors::to_py)?;
    Ok(Info::from(info))
}

/// What `read_watermark` returns: state, time, source and data.
type WatermarkTuple<'py> = (
    &'static str,
    Option<u64>,
    Option<Bound<'py, PyBytes>>,
    Option<Bound<'py, PyBytes>>,
);

/// Reads the coefficient watermark (`watermark="on"`) that `key` placed in a
/// JPEG (any bytes-like object, read in place): `(state, time, source,
/// data)`, `state` one of "found", "absent", "damaged"; the rest is `None`
/// unless found (`time` in seconds since 1970 UTC, `source` the first 8
/// bytes of the source's BLAKE3, `data` the user data).
#[pyfunction]
#[pyo3(signature = (data, key=None))]
fn read_watermark<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    key: Option<String>,
) -> PyResult<WatermarkTuple<'py>> {
    let input = Bytes::new(data)?;
    let slice = input.as_slice();
    let read = py
        .detach(|| engine::read_watermark(slice, key.as_deref()))
        .map_err(errors::to_py)?;
    let mark = read.mark();
    Ok((
        read.state(),
        mark.map(|mark| mark.time),
        mark.map(|mark| PyBytes::new(py, &mark.source)),
        mark.map(|mark| PyBytes::new(py, &mark.data)),
    ))
}

/// Decodes an encoded image to pixels (`orientation="apply"` by default, like
/// the rest of pixpress; Image.open passes "keep", as Pillow does).
#[pyfunction]
#[pyo3(signature = (data, **options))]
fn decode(
    py: Python<'_>,
    data: &Bound<'_, PyAny>,
    options: Option<&Bound<'_, PyDict>>,
) -> PyResult<Pixels> {
    let options = options::parse(options)?;
    let input = Bytes::new(data)?;
    let slice = input.as_slice();
    let decoded = py
        .detach(|| engine::decode(slice, &options))
        .map_err(errors::to_py)?;
    Ok(Pixels::from_decoded(decoded))
}

/// Scores `distorted` against `reference` (encoded images, any bytes-like
/// objects read in place, compared upright at the same size) with `metric`:
/// "ssimulacra2" (100 identical, 90 visually lossless, 80 very high),
/// "ssim" (1.0 identical) or "psnr" (dB; inf for identical images).
#[pyfunction]
#[pyo3(signature = (reference, distorted, metric = "ssimulacra2"))]
fn score(
    py: Python<'_>,
    reference: &Bound<'_, PyAny>,
    distorted: &Bound<'_, PyAny>,
    metric: &str,
) -> PyResult<f64> {
    let metric = engine::Metric::from_name(metric).map_err(errors::to_py)?;
    let (a, b) = (Bytes::new(reference)?, Bytes::new(distorted)?);
    let (a, b) = (a.as_slice(), b.as_slice());
    py.detach(|| engine::score(a, b, metric))
        .map_err(errors::to_py)
}

/// Encodes an image (any bytes-like object, read in place; decoded, oriented
/// and resized as the options say) to each format of `formats` (default
/// "jpeg,webp,avif") at several quality settings and losslessly to PNG, and
/// scores each. Returns a dict: `width`, `height`, `metric`, `points` (dicts
/// with `format`, `quality`, `bytes`, `score`, `pareto`), `front` (the
/// Pareto points, smallest first) and `svg` (the curves drawn as SVG text).
#[pyfunction]
#[pyo3(signature = (data, **options))]
fn analyze<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    options: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyAny>> {
    let options = options::parse(options)?;
    let input = Bytes::new(data)?;
    let slice = input.as_slice();
    let analysis = py
        .detach(|| engine::analyze(slice, &options))
        .map_err(errors::to_py)?;
    let result = py
        .import("json")?
        .call_method1("loads", (analysis.to_json(),))?;
    result.set_item("svg", analysis.to_svg())?;
    Ok(result)
}

/// One metadata field as a dict: `block`, `group`, `name`, `value`.
pub(crate) fn field_dict<'py>(
    py: Python<'py>,
    f: &engine::MetadataField,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("block", f.block.name())?;
    d.set_item("group", &f.group)?;
    d.set_item("name", &f.name)?;
    d.set_item("value", &f.value)?;
    Ok(d)
}

/// Every EXIF, XMP, IPTC and ICC field of an encoded image (any bytes-like
/// object, read in place), as stored: a list of dicts with `block` ("EXIF",
/// "XMP", "IPTC" or "ICC"), `group` (the IFD, the XMP prefix, "IPTC",
/// "ICC"), `name` and `value` (text).
#[pyfunction]
fn read_metadata<'py>(py: Python<'py>, data: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyList>> {
    let input = Bytes::new(data)?;
    let slice = input.as_slice();
    let metadata = py
        .detach(|| engine::read_metadata(slice))
        .map_err(errors::to_py)?;
    let fields = metadata
        .fields()
        .iter()
        .map(|f| field_dict(py, f))
        .collect::<PyResult<Vec<_>>>()?;
    PyList::new(py, fields)
}

/// The EXIF, XMP, IPTC and ICC blocks of an encoded image (any bytes-like
/// object, read in place) as `decode(data, orientation="keep")` gives them,
/// read from the container's headers without decoding pixels: a dict of
/// `exif`, `xmp`, `iptc` and `icc_profile`, each bytes or None; None for
/// the formats whose metadata only a decode gives (PNG, GIF, TIFF, BMP).
#[pyfunction]
fn header_metadata<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
) -> PyResult<Option<Bound<'py, PyDict>>> {
    let input = Bytes::new(data)?;
    let slice = input.as_slice();
    let metadata = py
        .detach(|| engine::decoded_metadata(slice))
        .map_err(errors::to_py)?;
    let Some(metadata) = metadata else {
        return Ok(None);
    };
    let blocks = PyDict::new(py);
    for (key, block) in [
        ("exif", &metadata.exif),
        ("xmp", &metadata.xmp),
        ("iptc", &metadata.iptc),
        ("icc_profile", &metadata.icc),
    ] {
        blocks.set_item(key, block.as_deref().map(|b| PyBytes::new(py, b)))?;
    }
    Ok(Some(blocks))
}

/// The entries of one IFD of an EXIF block (the TIFF structure, without the
/// `Exif\0\0` prefix) as `(tag, value)` pairs in stored order, pointer tags
/// included, each value typed as Pillow's `Image.Exif` gives it: an int,
/// float or str for one value, a tuple for several, bytes for BYTE and UNDEFINED.
/// `ifd` is exiftool's group name: `IFD0`, `ExifIFD`, `GPS`, `InteropIFD`
/// or `IFD1`.
#[pyfunction]
#[pyo3(signature = (exif, ifd = "IFD0"))]
fn exif_entries<'py>(
    py: Python<'py>,
    exif: &[u8],
    ifd: &str,
) -> PyResult<Vec<(u16, Bound<'py, PyAny>)>> {
    let which = engine::Ifd::ALL
        .into_iter()
        .find(|i| i.name().eq_ignore_ascii_case(ifd))
        .ok_or_else(|| {
            errors::invalid(format!(
                "ifd: {ifd:?} is not one of IFD0, ExifIFD, GPS, InteropIFD, IFD1"
            ))
        })?;
    let metadata = engine::Metadata {
        exif: Some(exif.to_vec()),
        ..Default::default()
    };
    metadata
        .exif_entries(which)
        .into_iter()
        .map(|(tag, value)| Ok((tag, exif_value(py, value)?)))
        .collect()
}

/// One EXIF value as a Python object (see [`exif_entries`]).
fn exif_value(py: Python<'_>, value: engine::ExifValue) -> PyResult<Bound<'_, PyAny>> {
    use pyo3::IntoPyObjectExt;
    fn one_or_tuple<'py, T: IntoPyObject<'py> + Copy>(
        py: Python<'py>,
        values: Vec<T>,
    ) -> PyResult<Bound<'py, PyAny>> {
        match values.as_slice() {
            [one] => one.into_bound_py_any(py),
            _ => Ok(PyTuple::new(py, values)?.into_any()),
        }
    }
    match value {
        engine::ExifValue::Integers(values) => one_or_tuple(py, values),
        engine::ExifValue::Numbers(values) => one_or_tuple(py, values),
        engine::ExifValue::Text(text) => text.into_bound_py_any(py),
        engine::ExifValue::Bytes(bytes) => Ok(PyBytes::new(py, &bytes).into_any()),
    }
}

/// An EXIF block (the TIFF structure, without the `Exif\0\0` prefix) with
/// its IFD0 Orientation set to `orientation` (1-8) when it holds the tag, as
/// Pillow's `ImageOps.exif_transpose` rewrites it; a block without the tag
/// comes back unchanged.
#[pyfunction]
fn exif_with_orientation<'py>(
    py: Python<'py>,
    exif: &[u8],
    orientation: u16,
) -> PyResult<Bound<'py, PyBytes>> {
    if !(1..=8).contains(&orientation) {
        return Err(errors::invalid(format!(
            "orientation: {orientation} is not 1-8"
        )));
    }
    let mut metadata = engine::Metadata {
        exif: Some(exif.to_vec()),
        ..Default::default()
    };
    metadata.set_exif_orientation(orientation);
    Ok(PyBytes::new(
        py,
        metadata.exif.as_deref().unwrap_or_default(),
    ))
}

/// The field-level difference of two encoded images' metadata: a dict with
/// `added` and `removed` (lists of fields, as `read_metadata` gives them),
/// `changed` and `moved` (lists of `{"before": field, "after": field}`;
/// moved fields went to another block, as IPTC to XMP in WebP).
#[pyfunction]
fn diff_metadata<'py>(
    py: Python<'py>,
    before: &Bound<'py, PyAny>,
    after: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyDict>> {
    let (a, b) = (Bytes::new(before)?, Bytes::new(after)?);
    let (a, b) = (a.as_slice(), b.as_slice());
    let diff = py
        .detach(|| {
            Ok::<_, engine::Error>(engine::read_metadata(a)?.diff(&engine::read_metadata(b)?))
        })
        .map_err(errors::to_py)?;
    let list = |fields: &[engine::MetadataField]| -> PyResult<Bound<'py, PyList>> {
        PyList::new(
            py,
            fields
                .iter()
                .map(|f| field_dict(py, f))
                .collect::<PyResult<Vec<_>>>()?,
        )
    };
    let pairs =
        |pairs: &[(engine::MetadataField, engine::MetadataField)]| -> PyResult<Bound<'py, PyList>> {
            let items = pairs
                .iter()
                .map(|(x, y)| {
                    let d = PyDict::new(py);
                    d.set_item("before", field_dict(py, x)?)?;
                    d.set_item("after", field_dict(py, y)?)?;
                    Ok(d)
                })
                .collect::<PyResult<Vec<_>>>()?;
            PyList::new(py, items)
        };
    let d = PyDict::new(py);
    d.set_item("added", list(&diff.added)?)?;
    d.set_item("removed", list(&diff.removed)?)?;
    d.set_item("changed", pairs(&diff.changed)?)?;
    d.set_item("moved", pairs(&diff.moved)?)?;
    Ok(d)
}

/// Puts back into an encoded JPEG, PNG or WebP (any bytes-like object) the
/// metadata a restore record holds (``Output.metadata["restore_record"]``
/// of a compress with ``restore_record=True``), without re-encoding pixels;
/// returns an Output as compress does.
#[pyfunction]
fn restore_metadata(
    py: Python<'_>,
    data: &Bound<'_, PyAny>,
    record: &Bound<'_, PyAny>,
) -> PyResult<Output> {
    let (input, record) = (Bytes::new(data)?, Bytes::new(record)?);
    let (input, record) = (input.as_slice(), record.as_slice());
    let restored = py
        .detach(|| engine::restore_metadata(input, record))
        .map_err(errors::to_py)?;
    Ok(Output::new(restored))
}

/// Applies the metadata options (``metadata``, ``provenance``,
/// ``restore_record``, ``interceptor``) to an encoded JPEG, PNG or WebP
/// without re-encoding pixels; returns an Output as compress does.
#[pyfunction]
#[pyo3(signature = (data, **options))]
fn rewrite_metadata(
    py: Python<'_>,
    data: &Bound<'_, PyAny>,
    options: Option<&Bound<'_, PyDict>>,
) -> PyResult<Output> {
    run_on_bytes(py, data, options, engine::rewrite_metadata)
}

/// The process-wide statistics of every compress and encode call so far: a
/// dict of ``images``, ``bytes_in``, ``bytes_out``, ``in_flight``, ``errors``
/// (status name -> count), ``stages`` (stage name -> ``{"count",
/// "seconds"}``), ``memory_budget`` (``None`` for none), ``memory_admitted``,
/// ``memory_admitted_peak``, ``admission_waits``, and ``pool`` (``hits``,
/// ``misses``, ``held_bytes``, ``idle_releases``, ``limit_bytes``).
#[pyfunction]
fn stats(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let s = engine::stats();
    let d = PyDict::new(py);
    d.set_item("images", s.images)?;
    d.set_item("bytes_in", s.bytes_in)?;
    d.set_item("bytes_out", s.bytes_out)?;
    d.set_item("in_flight", s.in_flight)?;
    let errors = PyDict::new(py);
    for (kind, count) in &s.errors {
        errors.set_item(kind.code(), count)?;
    }
    d.set_item("errors", errors)?;
    let stages = PyDict::new(py);
    for stage in &s.stages {
        let entry = PyDict::new(py);
        entry.set_item("count", stage.count)?;
        entry.set_item("seconds", stage.seconds)?;
        stages.set_item(stage.stage.name(), entry)?;
    }
    d.set_item("stages", stages)?;
    d.set_item("memory_budget", s.memory_budget)?;
    d.set_item("memory_admitted", s.memory_admitted)?;
    d.set_item("memory_admitted_peak", s.memory_admitted_peak)?;
    d.set_item("admission_waits", s.admission_waits)?;
    let pool = PyDict::new(py);
    pool.set_item("hits", s.pool.hits)?;
    pool.set_item("misses", s.pool.misses)?;
    pool.set_item("held_bytes", s.pool.held_bytes)?;
    pool.set_item("idle_releases", s.pool.idle_releases)?;
    pool.set_item("limit_bytes", s.pool.limit_bytes)?;
    d.set_item("pool", pool)?;
    Ok(d)
}

/// Sets the bound on bytes the buffer pools hold (default 0: off; or the
/// ``PIXPRESS_POOL_BYTES`` environment variable); 0 turns pooling off.
/// Decoded pixels and metric planes of 64 KiB and more are reused across
/// calls, and buffers unused for 2 s are freed.
#[pyfunction]
fn set_buffer_pool_limit(bytes: usize) {
    engine::set_buffer_pool_limit(bytes);
}

/// Sets the process-wide memory budget in bytes (``None``: none, the
/// default). Under a budget each compress and encode call is admitted by its
/// estimated memory (2.5 times the decoded pixels, plus the input) and waits,
/// without holding the GIL, while admitting it would go over; a call larger
/// than the budget runs alone.
#[pyfunction]
#[pyo3(signature = (bytes))]
fn set_memory_budget(bytes: Option<u64>) {
    engine::set_memory_budget(bytes);
}

/// The same statistics as Prometheus text exposition (names prefixed
/// ``pixpress_``), ready to serve from a ``/metrics`` endpoint.
#[pyfunction]
fn metrics_prometheus() -> String {
    engine::metrics_prometheus()
}

/// What this build decodes and encodes, probed from the linked libraries
/// (HEIC encoding only with the opt-in x265 build), with each library's
/// version and license: `{"decode": [...], "encode": [...], "libraries":
/// [{"name", "version", "license", "role"}, ...]}`.
#[pyfunction]
fn capabilities(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let c = engine::capabilities();
    let names = |formats: &[engine::Format]| formats.iter().map(|f| f.name()).collect::<Vec<_>>();
    let d = PyDict::new(py);
    d.set_item("decode", names(&c.decode))?;
    d.set_item("encode", names(&c.encode))?;
    let libraries = PyList::empty(py);
    for library in &c.libraries {
        let l = PyDict::new(py);
        l.set_item("name", &library.name)?;
        l.set_item("version", &library.version)?;
        l.set_item("license", library.license)?;
        l.set_item("role", library.role)?;
        libraries.append(l)?;
    }
    d.set_item("libraries", libraries)?;
    Ok(d)
}

/// The native module.
#[pymodule]
fn _pixpress(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", engine::VERSION)?;
    m.add("OPTION_KEYS", engine::OPTION_KEYS.to_vec())?;
    m.add("ERROR_CLASSES", errors::classes())?;
    m.add_function(wrap_pyfunction!(compress, m)?)?;
    m.add_function(wrap_pyfunction!(compress_file, m)?)?;
    m.add_function(wrap_pyfunction!(probe, m)?)?;
    m.add_function(wrap_pyfunction!(read_watermark, m)?)?;
    m.add_function(wrap_pyfunction!(score, m)?)?;
    m.add_function(wrap_pyfunction!(analyze, m)?)?;
    m.add_function(wrap_pyfunction!(decode, m)?)?;
    m.add_function(wrap_pyfunction!(read_metadata, m)?)?;
    m.add_function(wrap_pyfunction!(header_metadata, m)?)?;
    m.add_function(wrap_pyfunction!(exif_entries, m)?)?;
    m.add_function(wrap_pyfunction!(exif_with_orientation, m)?)?;
    m.add_function(wrap_pyfunction!(diff_metadata, m)?)?;
    m.add_function(wrap_pyfunction!(restore_metadata, m)?)?;
    m.add_function(wrap_pyfunction!(rewrite_metadata, m)?)?;
    m.add_class::<interceptor::MetadataEdit>()?;
    m.add_function(wrap_pyfunction!(stats, m)?)?;
    m.add_function(wrap_pyfunction!(capabilities, m)?)?;
    m.add_function(wrap_pyfunction!(metrics_prometheus, m)?)?;
    m.add_function(wrap_pyfunction!(set_memory_budget, m)?)?;
    m.add_function(wrap_pyfunction!(set_buffer_pool_limit, m)?)?;
    m.add_class::<Output>()?;
    m.add_class::<Info>()?;
    m.add_class::<Pixels>()?;
    m.add_class::<session::Session>()?;
    jobs::register(m)?;
    Ok(())
}
