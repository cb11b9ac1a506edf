//! The coefficient watermark of JPEG files: `readWatermark`.

use crate::errors::{Code, Failure};
use crate::job::Job;
use napi::bindgen_prelude::*;
use napi_derive::napi;

/// What reading a file for a watermark found.
#[napi(object)]
pub struct Watermark {
    /// "found", "absent" or "damaged".
    pub state: String,
    /// When the mark was made, in seconds since 1970-01-01 UTC (found only).
    pub time: Option<f64>,
    /// The first 8 bytes of the BLAKE3 of the source (found only).
    pub source: Option<Buffer>,
    /// The user data, `watermark_data` (found only).
    pub data: Option<Buffer>,
}

impl From<engine::WatermarkRead> for Watermark {
    fn from(read: engine::WatermarkRead) -> Watermark {
        let mark = read.mark();
        Watermark {
            state: read.state().into(),
            time: mark.map(|mark| mark.time as f64),
            source: mark.map(|mark| mark.source.to_vec().into()),
            data: mark.map(|mark| mark.data.clone().into()),
        }
    }
}

/// One watermark read on the libuv thread pool.
pub type WatermarkTask = Job<engine::WatermarkRead, Watermark>;

/// Reads the coefficient watermark (`watermark: 'on'`) that `key` (the
/// `watermark_key` it was made with; none for the public key) placed in a
/// JPEG, on the libuv thread pool. A file of another format carries none.
#[napi(ts_return_type = "Promise<Watermark>")]
pub fn read_watermark(data: Buffer, key: Option<String>) -> AsyncTask<WatermarkTask> {
    let data = data.to_vec();
    AsyncTask::new(WatermarkTask::new(
        move || Ok(engine::read_watermark(&data, key.as_deref())?),
        Watermark::from,
    ))
}

/// `readWatermark` on the calling thread.
#[napi]
pub fn read_watermark_sync(data: &[u8], key: Option<String>) -> Result<Watermark, Code> {
    let read = engine::read_watermark(data, key.as_deref()).map_err(Failure::from)?;
    Ok(read.into())
}
