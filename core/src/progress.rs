//! Progress reports, cancellation and stage timings for long calls.
//!
//! A caller passes a callback that receives a [`Progress`] at the start of
//! each stage of a call and once at the end; returning `false` stops the call
//! at that point with [`Error::Cancelled`](crate::Error::Cancelled). Stages are
//! the unit of cancellation: a stage that has started runs to its end.

use crate::error::{Error, Result};
use std::time::Duration;

/// Time spent in each stage of one call. Where the stages overlap (a JPEG
/// recompressed with its decode feeding the parallel strip encoder), each is
/// its own time summed over threads, and together they can exceed the call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timings {
    /// Sniffing, header parsing and decoding.
    pub decode: Duration,
    /// Orientation, resizing and sample conversion.
    pub transform: Duration,
    /// Encoding and metadata writing.
    pub encode: Duration,
}

/// The stage a call is entering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum Stage {
    /// Sniffing, header parsing and decoding.
    Decode = 1,
    /// Orientation, resizing and sample conversion.
    Transform = 2,
    /// Encoding and metadata writing.
    Encode = 3,
    /// The work is finished; a cancel at this point discards the result.
    Done = 4,
}

/// One progress report.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    /// The stage being entered.
    pub stage: Stage,
    /// The share of the call's work done so far, from 0.0 to 1.0.
    pub fraction: f32,
}

/// Delivers reports to an optional callback and turns a `false` into [`Error::Cancelled`].
pub(crate) struct Reporter<'a> {
    callback: Option<&'a mut dyn FnMut(&Progress) -> bool>,
}

impl<'a> Reporter<'a> {
    /// A reporter that reports nowhere and never cancels.
    pub(crate) fn silent() -> Reporter<'static> {
        Reporter { callback: None }
    }

    /// A reporter calling `callback`.
    pub(crate) fn new(callback: &'a mut dyn FnMut(&Progress) -> bool) -> Reporter<'a> {
        Reporter {
            callback: Some(callback),
        }
    }

    /// Reports entering `stage`; `Err(Cancelled)` when the callback says stop.
    pub(crate) fn enter(&mut self, stage: Stage) -> Result<()> {
        let fraction = match stage {
            Stage::Decode => 0.0,
            Stage::Transform => 0.4,
            Stage::Encode => 0.5,
            Stage::Done => 1.0,
        };
        self.at(stage, fraction)
    }

    /// Reports `fraction` of the call done within `stage` (an animation's
    /// frames, one by one); `Err(Cancelled)` when the callback says stop.
    pub(crate) fn at(&mut self, stage: Stage, fraction: f32) -> Result<()> {
        let go_on = match &mut self.callback {
            Some(callback) => callback(&Progress { stage, fraction }),
            None => true,
        };
        if go_on {
            Ok(())
        } else {
            Err(Error::Cancelled)
        }
    }
}
