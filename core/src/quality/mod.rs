//! Image quality: full-reference metrics, the search for the encoder
//! setting that meets a target score or byte budget, rate-quality analysis
//! with its Pareto front, and JPEG quantization tables from a model of vision.

mod analyze;
mod metric;
mod plot;
mod search;
mod ssimulacra2;
mod tables;
mod target;
mod tune;

pub(crate) use analyze::analyze;
pub use analyze::{Analysis, RatePoint};
pub use metric::{score_images, Metric};
pub use search::SearchReport;
pub use tables::{vision_tables, QuantTables, ANNEX_K_CHROMA, ANNEX_K_LUMA, DEFAULT_PPD};
pub use target::{parse_byte_size, Target};
pub(crate) use tune::encode_tuned;
pub use tune::TuneParam;
