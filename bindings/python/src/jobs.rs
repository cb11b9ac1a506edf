//! The pieces of `pixpress batch` a job spread over other processes
//! (`pixpress.ray`) shares, so that its outputs are the batch's own: the
//! planner's walk and naming, the batch task's compression, the identities a
//! resume checks, and the planned atomic write.

use crate::output::Output;
use crate::{errors, options, Bytes};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use std::path::PathBuf;

/// Plans a run over `inputs` into `output` as `pixpress batch` does (walk,
/// globs, naming, refusals): one dict per file, in the batch's order, with
/// `input`, `basis` (what the naming rule renders from), `in_output` (the
/// input lies in the output tree) and `code`/`error` when it fails before
/// it starts.
#[pyfunction]
#[pyo3(signature = (inputs, output, include=Vec::new(), exclude=Vec::new(), naming=engine::DEFAULT_NAMING.to_string(), extension=None))]
fn plan_files<'py>(
    py: Python<'py>,
    inputs: Vec<PathBuf>,
    output: PathBuf,
    include: Vec<String>,
    exclude: Vec<String>,
    naming: String,
    extension: Option<String>,
) -> PyResult<Bound<'py, PyList>> {
    let plan = py
        .detach(|| {
            engine::Plan::new(engine::PlanSpec {
                inputs: &inputs,
                output_dir: &output,
                skip: None,
                include: &include,
                exclude: &exclude,
                naming: &naming,
                extension: extension.as_deref(),
            })
        })
        .map_err(errors::to_py)?;
    let list = PyList::empty(py);
    for index in 0..plan.len() {
        let d = PyDict::new(py);
        d.set_item("input", plan.input(index))?;
        d.set_item("basis", plan.basis(index))?;
        d.set_item("in_output", plan.input_in_output(index))?;
        let problem = plan.problem(index);
        d.set_item("code", problem.as_ref().map(|e| e.kind().code()))?;
        d.set_item("error", problem.map(|e| e.to_string()))?;
        list.append(d)?;
    }
    Ok(list)
}

/// Whether each path (relative to its input directory) is taken by a walk
/// with these globs (default: the image extensions): for listings the
/// planner cannot walk itself (a remote filesystem).
#[pyfunction]
#[pyo3(signature = (relatives, include=Vec::new(), exclude=Vec::new()))]
fn selects(
    relatives: Vec<PathBuf>,
    include: Vec<String>,
    exclude: Vec<String>,
) -> PyResult<Vec<bool>> {
    let selection = engine::Selection::new(&include, &exclude).map_err(errors::to_py)?;
    Ok(relatives.iter().map(|r| selection.takes(r)).collect())
}

/// The output path below the output directory for an input whose naming
/// basis is `basis` and whose output extension is `ext`, by `naming`.
#[pyfunction]
fn output_name(naming: &str, basis: PathBuf, ext: &str) -> PathBuf {
    engine::render_name(naming, &basis, ext)
}

/// Options as `(key, value)` texts of the shared vocabulary.
type OptionPairs = Vec<(String, String)>;

/// The shared vocabulary's options checked as a compression would check
/// them: their `(key, value)` texts, sorted (a job's identity), and the
/// output extension when the options fix it (`None` for `same` or `auto`).
#[pyfunction]
#[pyo3(signature = (**options))]
fn check_options(
    options: Option<&Bound<'_, PyDict>>,
) -> PyResult<(OptionPairs, Option<&'static str>)> {
    let mut pairs = options::pairs(options)?;
    let parsed = engine::Options::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .map_err(errors::to_py)?;
    pairs.sort();
    Ok((pairs, parsed.format.extension()))
}

/// Compresses `data` into the bytes `pixpress batch` writes for it with these
/// options (JPEG outputs of at least `strip_pixels` pixels striped as a
/// batch's are), without the GIL.
#[pyfunction]
#[pyo3(signature = (data, strip_pixels=engine::DEFAULT_STRIP_PIXELS, **options))]
fn compress_as_batch(
    py: Python<'_>,
    data: &Bound<'_, PyAny>,
    strip_pixels: u64,
    options: Option<&Bound<'_, PyDict>>,
) -> PyResult<Output> {
    crate::run_on_bytes(py, data, options, |data, options| {
        engine::compress_as_batch(data, options, strip_pixels)
    })
}

/// The identity of an input's content a resume checks (BLAKE3, hex).
#[pyfunction]
fn input_hash(py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<String> {
    let input = Bytes::new(data)?;
    let slice = input.as_slice();
    let hash = py.detach(|| engine::input_hash(slice));
    Ok(hash.iter().map(|b| format!("{b:02x}")).collect())
}

/// The checksum that tells an intact output from a torn one (CRC32C).
#[pyfunction]
fn output_checksum(py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<u32> {
    let input = Bytes::new(data)?;
    let slice = input.as_slice();
    Ok(py.detach(|| engine::output_checksum(slice)))
}

/// Puts an output in place at `path` as a batch task does: refused when it
/// would replace one of `inputs`, its directory created, written atomically
/// with `restore_record` (if any) beside it.
#[pyfunction]
#[pyo3(signature = (path, data, restore_record=None, inputs=Vec::new()))]
fn write_planned_output(
    py: Python<'_>,
    path: PathBuf,
    data: &Bound<'_, PyAny>,
    restore_record: Option<&Bound<'_, PyAny>>,
    inputs: Vec<PathBuf>,
) -> PyResult<()> {
    let data = Bytes::new(data)?;
    let record = restore_record.map(Bytes::new).transpose()?;
    let (data, record) = (data.as_slice(), record.as_ref().map(Bytes::as_slice));
    py.detach(|| engine::write_planned_output(&path, data, record, &inputs))
        .map_err(errors::to_py)
}

/// Adds this module's functions and constants to the native module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("DEFAULT_NAMING", engine::DEFAULT_NAMING)?;
    m.add("DEFAULT_STRIP_PIXELS", engine::DEFAULT_STRIP_PIXELS)?;
    m.add_function(wrap_pyfunction!(plan_files, m)?)?;
    m.add_function(wrap_pyfunction!(selects, m)?)?;
    m.add_function(wrap_pyfunction!(output_name, m)?)?;
    m.add_function(wrap_pyfunction!(check_options, m)?)?;
    m.add_function(wrap_pyfunction!(compress_as_batch, m)?)?;
    m.add_function(wrap_pyfunction!(input_hash, m)?)?;
    m.add_function(wrap_pyfunction!(output_checksum, m)?)?;
    m.add_function(wrap_pyfunction!(write_planned_output, m)?)?;
    Ok(())
}
