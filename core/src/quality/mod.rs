//! Image quality: full-reference metrics, and the search for the encoder
//! setting that meets a target score or byte budget.

mod metric;
mod search;
mod ssimulacra2;
mod target;
mod tune;

pub use metric::{score_images, Metric};
pub use search::{promise_margin, SearchReport};
pub(crate) use search::{score_encoded, trial_params};
pub use target::{parse_byte_size, Target};
pub(crate) use tune::encode_tuned;
pub use tune::TuneParam;
