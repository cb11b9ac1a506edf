//! JavaScript option objects and metric names to core values: every option
//! value becomes the core's typed `OptionValue`, so Node shares the one
//! option vocabulary and the one conversion.

use crate::errors::{Failure, Fallible};
use engine::{OptionValue, Options};
use napi::bindgen_prelude::*;
use std::collections::HashMap;

/// Options from a JavaScript object (`index.js` has already turned arrays and
/// boxes into their text): strings, numbers and booleans as the core's
/// [`OptionValue`]s.
pub(crate) fn parse_options(
    options: Option<HashMap<String, Either3<String, f64, bool>>>,
) -> Fallible<Options> {
    let mut parsed = Options::default();
    for (key, value) in options.unwrap_or_default() {
        let value = match value {
            Either3::A(text) => OptionValue::Text(text),
            Either3::B(number) => OptionValue::Number(number),
            Either3::C(flag) => OptionValue::Bool(flag),
        };
        parsed.set_value(&key, &value).map_err(Failure::from)?;
    }
    Ok(parsed)
}

/// The metric a name denotes; the core's default without one.
pub(crate) fn parse_metric(name: Option<String>) -> Fallible<engine::Metric> {
    name.map_or(Ok(engine::Metric::default()), |n| {
        Ok(engine::Metric::from_name(&n)?)
    })
}
