//! The coefficient watermark of a compress (`watermark=on|keep`), put into
//! the finished JPEG whatever path made it.

use super::Compressed;
use crate::error::{Error, Result};
use crate::format::Format;
use crate::options::{Options, WatermarkMode};
use crate::watermark::{self, Watermark, WatermarkRead};

/// `out` with the mark `options` ask for: a new one (`on`: now, the first 8
/// bytes of `input`'s BLAKE3, `watermark_data`) or the one `input` carries
/// (`keep`; `out` as it is when there is none). A mark needs a JPEG output.
pub(super) fn mark(mut out: Compressed, input: &[u8], options: &Options) -> Result<Compressed> {
    let key = options.watermark_key.as_deref();
    let mark = match options.watermark {
        WatermarkMode::Off => return Ok(out),
        WatermarkMode::On => Watermark {
            time: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            source: blake3::hash(input).as_bytes()[..8]
                .try_into()
                .expect("8 of 32 bytes"),
            data: options.watermark_data.clone(),
        },
        WatermarkMode::Keep => match watermark::read(input, key, options.max_pixels)? {
            WatermarkRead::Found(mark) => mark,
            WatermarkRead::Absent | WatermarkRead::Damaged => return Ok(out),
        },
    };
    if out.format != Format::Jpeg {
        return Err(Error::option(
            "watermark",
            format!(
                "the mark is carried by JPEG outputs only; this output is {}",
                out.format
            ),
        ));
    }
    let started = std::time::Instant::now();
    out.data = watermark::embed(&out.data, &mark, key, options.max_pixels)?;
    out.timings.encode += started.elapsed();
    Ok(out)
}

/// Refuses a watermark for an encode of caller pixels: a mark names the
/// source file it was made from, and pixels have none.
pub(super) fn refuse_for_pixels(options: &Options) -> Result<()> {
    if options.watermark == WatermarkMode::Off {
        return Ok(());
    }
    Err(Error::option(
        "watermark",
        "a mark names the source file it was made from; encoding caller pixels has none (use compress)",
    ))
}
