//! Image quality: full-reference metrics, and the search for the encoder
//! setting that meets a target score or byte budget.

mod metric;
mod search;
mod ssimulacra2;
mod target;

pub use metric::{score_images, Metric};
pub(crate) use search::encode_to_target;
pub use search::SearchReport;
pub use target::Target;
