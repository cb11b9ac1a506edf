//! Keyword arguments to core options: every value is turned into the string
//! form `Options::set` parses, so Python shares the one vocabulary.

use crate::errors;
use engine::Options;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};

/// The string form of one option value: `None` is the default, booleans are
/// `true`/`false`, a `(width, height)` pair is `WxH` (None leaves a side free),
/// a sequence of strings is a comma-separated list.
fn value_text(key: &str, value: &Bound<'_, PyAny>) -> PyResult<String> {
    if value.is_none() {
        return Ok(String::new());
    }
    if value.is_instance_of::<PyBool>() {
        return Ok(if value.extract::<bool>()? {
            "true"
        } else {
            "false"
        }
        .into());
    }
    if value.is_instance_of::<PyString>()
        || value.is_instance_of::<PyInt>()
        || value.is_instance_of::<PyFloat>()
    {
        return Ok(value.str()?.to_string());
    }
    if value.is_instance_of::<PyTuple>() || value.is_instance_of::<PyList>() {
        // A sequence of names is the vocabulary's comma-separated list (`formats`).
        if let Ok(names) = value.extract::<Vec<String>>() {
            return Ok(names.join(","));
        }
        let sides: Vec<Option<u32>> = value.extract().map_err(|_| {
            errors::invalid(format!("invalid option `{key}`: expected (width, height)"))
        })?;
        let side = |s: &Option<u32>| s.map_or(String::new(), |v| v.to_string());
        return match sides.as_slice() {
            [w, h] => Ok(format!("{}x{}", side(w), side(h))),
            _ => Err(errors::invalid(format!(
                "invalid option `{key}`: expected (width, height), got {} values",
                sides.len()
            ))),
        };
    }
    Err(errors::invalid(format!(
        "invalid option `{key}`: {} is not a str, int, float, bool, None or (width, height)",
        value.get_type().name()?
    )))
}

/// Keyword arguments as `(key, value)` pairs of the shared vocabulary, unchecked.
pub(crate) fn pairs(kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<Vec<(String, String)>> {
    let mut pairs = Vec::new();
    if let Some(kwargs) = kwargs {
        for (key, value) in kwargs.iter() {
            let key: String = key.extract()?;
            let text = value_text(&key, &value)?;
            pairs.push((key, text));
        }
    }
    Ok(pairs)
}

/// Options from keyword arguments (defaults for None). `interceptor` takes
/// a callable (see `MetadataEdit`); every other key is the shared vocabulary.
pub(crate) fn parse(kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<Options> {
    let interceptor = match kwargs {
        Some(kwargs) => kwargs.get_item("interceptor")?,
        None => None,
    };
    let rest = match (kwargs, &interceptor) {
        (Some(kwargs), Some(_)) => {
            let rest = kwargs.copy()?;
            rest.del_item("interceptor")?;
            Some(rest)
        }
        (kwargs, _) => kwargs.cloned(),
    };
    let interceptor = interceptor.filter(|v| !v.is_none());
    let pairs = pairs(rest.as_ref())?;
    let mut options = Options::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .map_err(errors::to_py)?;
    options.interceptor = interceptor
        .map(|callable| crate::interceptor::PyInterceptor::wrap(&callable))
        .transpose()?;
    Ok(options)
}
