//! JavaScript option objects and metric names to core values: every option
//! value (null, string, number, boolean, list, box) becomes the core's typed
//! `OptionValue`, so Node shares the one option vocabulary and the one
//! conversion.

use crate::errors::{Failure, Fallible};
use engine::{OptionValue, Options};
use napi::bindgen_prelude::*;
use napi_derive::napi;
use std::collections::HashMap;

/// A size box as JavaScript gives it (`resize: { width: 800 }`): either side
/// may be left out.
#[napi(object)]
pub struct SizeBox {
    /// Width in pixels.
    pub width: Option<u32>,
    /// Height in pixels.
    pub height: Option<u32>,
}

/// One option value as JavaScript gives it: `null` (the default), a string,
/// a number, a boolean, a list of names (`['webp', 'avif']`), a box as a
/// pair (`[800, null]`) or as `{ width, height }`. (Spelled out in each
/// `#[napi]` signature: the TypeScript generator does not see through aliases.)
pub(crate) type JsOptionValue =
    Option<Either5<String, f64, bool, Vec<Either3<String, f64, Null>>, SizeBox>>;

/// Options from a JavaScript object: each value becomes the core's
/// [`OptionValue`], which alone turns it into the text the core parses.
pub(crate) fn parse_options(options: Option<HashMap<String, JsOptionValue>>) -> Fallible<Options> {
    let mut parsed = Options::default();
    for (key, value) in options.unwrap_or_default() {
        parsed
            .set_value(&key, &option_value(&key, value)?)
            .map_err(Failure::from)?;
    }
    Ok(parsed)
}

/// The core's value for the JavaScript value `value` of option `key`.
pub(crate) fn option_value(key: &str, value: JsOptionValue) -> Fallible<OptionValue> {
    let side = |v: &Either3<String, f64, Null>| match v {
        Either3::B(n) if *n >= 0.0 && n.fract() == 0.0 && *n <= f64::from(u32::MAX) => {
            Some(Some(*n as u32))
        }
        Either3::C(Null) => Some(None),
        _ => None,
    };
    Ok(match value {
        None => OptionValue::Default,
        Some(Either5::A(text)) => OptionValue::Text(text),
        Some(Either5::B(number)) => OptionValue::Number(number),
        Some(Either5::C(flag)) => OptionValue::Bool(flag),
        Some(Either5::D(items)) => {
            let names: Option<Vec<String>> = items
                .iter()
                .map(|item| match item {
                    Either3::A(name) => Some(name.clone()),
                    _ => None,
                })
                .collect();
            match (names, items.as_slice()) {
                (Some(names), _) => OptionValue::List(names),
                (None, [w, h]) => match (side(w), side(h)) {
                    (Some(w), Some(h)) => OptionValue::Pair(w, h),
                    _ => return Err(not_a_box(key)),
                },
                // Several numbers (`crop: [left, top, width, height]`): the
                // vocabulary's comma-separated form.
                (None, numbers) => OptionValue::List(
                    numbers
                        .iter()
                        .map(|item| match item {
                            Either3::B(n) => Ok(OptionValue::Number(*n).to_text()),
                            _ => Err(not_a_box(key)),
                        })
                        .collect::<Fallible<_>>()?,
                ),
            }
        }
        Some(Either5::E(size)) => OptionValue::Pair(size.width, size.height),
    })
}

/// The error for an array that is neither a list of names nor a box.
fn not_a_box(key: &str) -> Failure {
    Failure::from(engine::Error::InvalidOption {
        key: key.to_string(),
        reason: "an array must be a list of names, [width, height] with whole numbers or null, or a list of numbers"
            .into(),
    })
}

/// The metric a name denotes; the core's default without one.
pub(crate) fn parse_metric(name: Option<String>) -> Fallible<engine::Metric> {
    name.map_or(Ok(engine::Metric::default()), |n| {
        Ok(engine::Metric::from_name(&n)?)
    })
}
