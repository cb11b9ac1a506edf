//! Keyword arguments to core options: every value becomes the core's typed
//! `OptionValue`, whose text `Options::set` parses, so Python shares the one
//! vocabulary and the one conversion.

use crate::errors;
use engine::{OptionValue, Options};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};

/// One keyword argument's value as the core's typed [`OptionValue`]: `None`
/// is the default, a `(width, height)` pair a box (None leaves a side free),
/// a sequence of strings a list.
fn value_of(key: &str, value: &Bound<'_, PyAny>) -> PyResult<OptionValue> {
    if value.is_none() {
        return Ok(OptionValue::Default);
    }
    if value.is_instance_of::<PyBool>() {
        return Ok(OptionValue::Bool(value.extract()?));
    }
    if value.is_instance_of::<PyString>() {
        return Ok(OptionValue::Text(value.extract()?));
    }
    if value.is_instance_of::<PyInt>() {
        // An int beyond i64 keeps its digits; the core's range check names it.
        return Ok(value
            .extract::<i64>()
            .map_or_else(|_| OptionValue::Text(value.to_string()), OptionValue::Int));
    }
    if value.is_instance_of::<PyFloat>() {
        return Ok(OptionValue::Number(value.extract()?));
    }
    if value.is_instance_of::<PyTuple>() || value.is_instance_of::<PyList>() {
        // A sequence of names is the vocabulary's comma-separated list (`formats`).
        if let Ok(names) = value.extract::<Vec<String>>() {
            return Ok(OptionValue::List(names));
        }
        let sides: Vec<Option<u32>> = value.extract().map_err(|_| {
            errors::invalid(format!(
                "invalid option `{key}`: expected (width, height) or whole numbers"
            ))
        })?;
        return match sides.as_slice() {
            [w, h] => Ok(OptionValue::Pair(*w, *h)),
            // Several numbers (`crop=(left, top, width, height)`): the
            // vocabulary's comma-separated form.
            numbers => numbers
                .iter()
                .map(|n| n.map(|n| n.to_string()))
                .collect::<Option<Vec<_>>>()
                .map(OptionValue::List)
                .ok_or_else(|| {
                    errors::invalid(format!(
                        "invalid option `{key}`: None is only a side of (width, height)"
                    ))
                }),
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
            let text = value_of(&key, &value)?.to_text();
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
