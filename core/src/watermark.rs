//! A provenance mark carried by the luma DC coefficients of a JPEG, so that
//! it survives what strips metadata.
//!
//! **Payload.** A frame: a version and the length of the user data (one
//! byte), the time of the mark (seconds since 1970 UTC, 8 bytes), the first
//! 8 bytes of the source's BLAKE3, the user data (none, or 16 bytes
//! zero-padded) and a CRC-32C of all that: 168 bits, or 296 with data. The
//! CRC tells a mark from damage: a frame that fails it is reported damaged,
//! never guessed at.
//!
//! **Code.** The frame is coded by a rate 1/2 convolutional code
//! ([`code`]), and each coded bit is repeated on the blocks that carry it;
//! the reader adds the copies' soft values and decodes them with Viterbi.
//!
//! **Where.** A keyed pseudo-random permutation of the luma blocks (BLAKE3
//! in keyed mode, the key derived from `watermark_key`, a fixed public key
//! when none is given) is drawn until it holds [`COPIES`] carriers per coded bit
//! (or the whole image);
//! block `p` of the permutation carries coded bit `p mod n`, whitened by a
//! keyed bit. Of those, only textured blocks ([`MIN_TEXTURE`]) carry: a DC
//! step shows in a flat block and hides in texture. The reader measures the
//! same texture in the file it reads. Without the key, neither the blocks
//! nor their whitening are known.
//!
//! **How.** A carrier's bit is the parity of its quantized DC. Where a coded
//! bit's carriers do not agree on it by a margin, the most textured of the
//! wrong ones move one quantization step, toward the mean of their
//! neighbours' DC: a block's mean sample moves by an eighth of the file's DC
//! step (0.75 levels at quality 80). The margin (the strength) is the
//! largest that moves at most [`MAX_MOVED_SHARE`] of the blocks.
//! The reader takes the cosine of pi times the DC over the step the mark
//! was made with: the file's own step first, then every step up to
//! [`MAX_STEP`], for a file another encoder wrote again.
//!
//! **What it survives** (measured, BENCHMARKS.md): metadata stripping and
//! lossless re-optimization keep every coefficient; a re-encode at a finer
//! or equal step moves a DC by less than half the marked step, and the code
//! corrects the rest. A resize or a crop moves the block grid, and the mark
//! is gone.

mod code;

use crate::codecs::jpeg::{read_luma_dc, rewrite_luma_dc, LumaDc};
use crate::error::{Error, Result};
use crate::format::{sniff, Format};

/// The most bytes of user data a mark carries.
pub const MAX_WATERMARK_DATA: usize = 16;
/// A frame without user data: version and length, time, source, CRC-32C.
const SHORT_FRAME: usize = 1 + 8 + 8 + 4;
/// A frame with user data.
const LONG_FRAME: usize = SHORT_FRAME + MAX_WATERMARK_DATA;
/// The frame format's version, in the top three bits of its first byte.
const VERSION: u8 = 2;
/// The largest DC quantization step a reader tries for a re-encoded file.
const MAX_STEP: i32 = 64;
/// Carriers per coded bit the permutation is drawn for (fewer when the
/// image has fewer textured blocks).
pub const COPIES: usize = 24;
/// Carriers per coded bit an image must have, at least, to be marked.
pub const MIN_COPIES: usize = 3;
/// The least texture (sum of AC magnitudes in DCT units) of a block that
/// carries the mark.
pub const MIN_TEXTURE: u32 = 120;
/// The share of an image's blocks a mark may move, at most: one in 14 moves
/// SSIMULACRA2 by at most about 0.41 at quality 80 on the corpus photos
/// (the drop grew at most 5.8 times the share moved; 0.42 measured).
pub const MAX_MOVED_SHARE: f64 = 1.0 / 14.0;
/// The strengths tried, strongest first: the margin each coded bit's
/// carriers are given, in square roots of their copies.
const STRENGTHS: [f64; 13] = [
    3.0, 2.75, 2.5, 2.25, 2.0, 1.75, 1.5, 1.25, 1.0, 0.75, 0.5, 0.25, 0.0,
];
/// How many standard deviations above chance the copies of each coded bit
/// must agree with one another for a mark to be there (damaged when no
/// frame decodes).
const PRESENT_Z: f64 = 8.0;

/// What a mark says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watermark {
    /// When the mark was made, in seconds since 1970-01-01 UTC.
    pub time: u64,
    /// The first 8 bytes of the BLAKE3 of the source the marked file was made from.
    pub source: [u8; 8],
    /// The user data, at most [`MAX_WATERMARK_DATA`] bytes.
    pub data: Vec<u8>,
}

/// What reading a file for a mark found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatermarkRead {
    /// A whole mark, its CRC checked.
    Found(Watermark),
    /// No mark with this key: the coefficients agree with no frame more than
    /// noise does.
    Absent,
    /// A mark is there (its copies agree far above chance) but too damaged
    /// to read: no frame passes its CRC.
    Damaged,
}

impl WatermarkRead {
    /// The state's name in every face: `found`, `absent` or `damaged`.
    pub fn state(&self) -> &'static str {
        match self {
            WatermarkRead::Found(_) => "found",
            WatermarkRead::Absent => "absent",
            WatermarkRead::Damaged => "damaged",
        }
    }

    /// The mark, when one was found.
    pub fn mark(&self) -> Option<&Watermark> {
        match self {
            WatermarkRead::Found(mark) => Some(mark),
            WatermarkRead::Absent | WatermarkRead::Damaged => None,
        }
    }
}

impl Watermark {
    /// The frame's bytes: [`SHORT_FRAME`] of them without data, else [`LONG_FRAME`].
    fn frame(&self) -> Result<Vec<u8>> {
        if self.data.len() > MAX_WATERMARK_DATA {
            return Err(Error::option(
                "watermark_data",
                format!("{} bytes; at most {MAX_WATERMARK_DATA}", self.data.len()),
            ));
        }
        let mut frame = vec![
            0u8;
            if self.data.is_empty() {
                SHORT_FRAME
            } else {
                LONG_FRAME
            }
        ];
        frame[0] = (VERSION << 5) | self.data.len() as u8;
        frame[1..9].copy_from_slice(&self.time.to_be_bytes());
        frame[9..17].copy_from_slice(&self.source);
        frame[17..17 + self.data.len()].copy_from_slice(&self.data);
        let body = frame.len() - 4;
        let crc = crc32c::crc32c(&frame[..body]);
        frame[body..].copy_from_slice(&crc.to_be_bytes());
        Ok(frame)
    }

    /// The mark a frame holds, when its CRC, version and length check.
    fn from_frame(frame: &[u8]) -> Option<Watermark> {
        let body = frame.len().checked_sub(4)?;
        let crc = u32::from_be_bytes(frame[body..].try_into().ok()?);
        let len = usize::from(frame[0] & 0x1F);
        let fits = if frame.len() == SHORT_FRAME {
            len == 0
        } else {
            frame.len() == LONG_FRAME && (1..=MAX_WATERMARK_DATA).contains(&len)
        };
        if crc != crc32c::crc32c(&frame[..body]) || frame[0] >> 5 != VERSION || !fits {
            return None;
        }
        Some(Watermark {
            time: u64::from_be_bytes(frame[1..9].try_into().ok()?),
            source: frame[9..17].try_into().ok()?,
            data: frame[17..17 + len].to_vec(),
        })
    }
}

/// The keyed draw of an image's blocks: position `p` is block `blocks[p]`,
/// carrying coded bit `p mod n` inverted when `flips[p]`.
struct Placement {
    blocks: Vec<u32>,
    flips: Vec<bool>,
}

impl Placement {
    /// The permutation of `count` blocks under `key`, drawn until it holds
    /// `carriers` blocks that `carries` (a prefix of any longer draw).
    fn new(
        key: Option<&str>,
        count: usize,
        carriers: usize,
        carries: impl Fn(usize) -> bool,
    ) -> Placement {
        let key = blake3::derive_key(
            "pixpress 2026-12-05 JPEG DC watermark key",
            key.unwrap_or("").as_bytes(),
        );
        let mut hasher = blake3::Hasher::new_keyed(&key);
        hasher.update(&(count as u64).to_le_bytes());
        let mut stream = hasher.finalize_xof();
        let mut order: Vec<u32> = (0..count as u32).collect();
        let (mut flips, mut found) = (Vec::new(), 0);
        while flips.len() < count && found < carriers {
            let mut draw = [0u8; 8];
            stream.fill(&mut draw);
            let draw = u64::from_le_bytes(draw);
            let p = flips.len();
            order.swap(p, p + (draw >> 1) as usize % (count - p));
            flips.push(draw & 1 == 1);
            found += usize::from(carries(order[p] as usize));
        }
        order.truncate(flips.len());
        Placement {
            blocks: order,
            flips,
        }
    }

    /// Positions up to the one holding the `carriers`-th block that `carries`.
    fn prefix(&self, carriers: usize, carries: impl Fn(usize) -> bool) -> usize {
        let mut found = 0;
        self.blocks
            .iter()
            .position(|&block| {
                found += usize::from(carries(block as usize));
                found == carriers
            })
            .map_or(self.blocks.len(), |p| p + 1)
    }
}

/// The bits of `bytes`, most significant first.
fn bits(bytes: &[u8]) -> Vec<bool> {
    bytes
        .iter()
        .flat_map(|byte| (0..8).rev().map(move |i| byte >> i & 1 == 1))
        .collect()
}

/// The bytes of `bits`, most significant first.
fn bytes(bits: &[bool]) -> Vec<u8> {
    bits.chunks(8)
        .map(|byte| byte.iter().fold(0u8, |acc, &bit| acc << 1 | u8::from(bit)))
        .collect()
}

/// The mean DC of the blocks above, below, left and right of `block`.
fn neighbours_mean(dc: &LumaDc, block: usize) -> f64 {
    let (column, rows) = (block % dc.columns, dc.values.len() / dc.columns);
    let row = block / dc.columns;
    let mut sum = 0i64;
    let mut count = 0i64;
    let mut add = |index: usize| {
        sum += i64::from(dc.values[index]);
        count += 1;
    };
    if column > 0 {
        add(block - 1);
    }
    if column + 1 < dc.columns {
        add(block + 1);
    }
    if row > 0 {
        add(block - dc.columns);
    }
    if row + 1 < rows {
        add(block + dc.columns);
    }
    sum as f64 / count.max(1) as f64
}

/// The carriers of one coded bit in a file being marked.
#[derive(Default)]
struct Carriers {
    /// How many blocks carry the bit.
    copies: usize,
    /// Carriers with the wanted parity minus those without.
    margin: i64,
    /// The carriers without the wanted parity, most textured first.
    wrong: Vec<usize>,
}

impl Carriers {
    /// The carriers to move for a margin of `strength` times the square
    /// root of the copies (the spread of chance agreement), at least 1: the
    /// most textured, where a step hides best.
    fn to_move(&self, strength: f64) -> &[usize] {
        let wanted = ((strength * (self.copies as f64).sqrt()).ceil() as i64).max(1);
        // Each move turns a wrong carrier right: 2 more margin.
        let moves = ((wanted - self.margin).max(0) + 1) / 2;
        &self.wrong[..(moves as usize).min(self.wrong.len())]
    }
}

/// The JPEG `jpeg` with `mark` embedded under `key` in its luma DC
/// coefficients, everything else kept (markers, scans, other coefficients).
///
/// The strength is the highest of [`STRENGTHS`] that moves at most
/// [`MAX_MOVED_SHARE`] of the blocks: large images get a mark that survives
/// coarser re-encodes, small ones a weaker one, none a visible one. An image
/// that cannot hold the mark within the bound is refused.
pub(crate) fn embed(
    jpeg: &[u8],
    mark: &Watermark,
    key: Option<&str>,
    max_pixels: u64,
) -> Result<Vec<u8>> {
    let coded = code::encode(&bits(&mark.frame()?));
    rewrite_luma_dc(jpeg, max_pixels, |dc| {
        let count = dc.values.len();
        let placement = Placement::new(key, count, COPIES * coded.len(), |block| {
            dc.texture[block] >= MIN_TEXTURE
        });
        let mut bits: Vec<Carriers> = std::iter::repeat_with(Carriers::default)
            .take(coded.len())
            .collect();
        for (p, (&block, &flip)) in placement.blocks.iter().zip(&placement.flips).enumerate() {
            let block = block as usize;
            let carriers = &mut bits[p % coded.len()];
            if dc.texture[block] < MIN_TEXTURE {
                continue;
            }
            carriers.copies += 1;
            if ((dc.values[block] / dc.step).rem_euclid(2) == 1) == (coded[p % coded.len()] ^ flip)
            {
                carriers.margin += 1;
            } else {
                carriers.margin -= 1;
                carriers.wrong.push(block);
            }
        }
        let textured: usize = bits.iter().map(|carriers| carriers.copies).sum();
        if textured < MIN_COPIES * coded.len() {
            return Err(Error::InvalidArgument(format!(
                "the image has {textured} textured 8x8 blocks where the mark can hide; it needs {}",
                MIN_COPIES * coded.len()
            )));
        }
        for carriers in &mut bits {
            carriers
                .wrong
                .sort_by_key(|&block| std::cmp::Reverse(dc.texture[block]));
        }
        let budget = (count as f64 * MAX_MOVED_SHARE) as usize;
        let moved = |strength: f64| -> usize {
            bits.iter()
                .map(|carriers| carriers.to_move(strength).len())
                .sum()
        };
        let Some(strength) = STRENGTHS
            .into_iter()
            .find(|&strength| moved(strength) <= budget)
        else {
            return Err(Error::InvalidArgument(format!(
                "the mark would move {} of the image's {count} 8x8 blocks; the visibility bound allows {budget}",
                moved(0.0)
            )));
        };
        // The quantized DC range of 8-bit samples: 8 (0 - 128) to 8 (255 - 128).
        let (lowest, highest) = (-1024 / dc.step, 1016 / dc.step);
        if highest < 1 {
            return Err(Error::InvalidArgument(format!(
                "a DC quantization step of {} leaves no room for the mark",
                dc.step
            )));
        }
        let mut edits = vec![None; count];
        for &block in bits.iter().flat_map(|carriers| carriers.to_move(strength)) {
            let quantized = dc.values[block] / dc.step;
            let up = neighbours_mean(dc, block) > f64::from(dc.values[block]);
            edits[block] = Some(if (up && quantized < highest) || quantized <= lowest {
                quantized + 1
            } else {
                quantized - 1
            });
        }
        Ok(edits)
    })
}

/// How far above chance the copies of each coded bit agree, in standard
/// deviations: `sums`, `squares` and `fourths` hold, per coded bit, the sum
/// of its copies' soft values, of their squares and of their fourth powers.
fn agreement(sums: &[f64], squares: &[f64], fourths: &[f64]) -> f64 {
    // Each pair of copies of one bit adds y y' to the agreement; by chance
    // that is 0 on average, with a variance of y^2 y'^2 per pair.
    let pairs: f64 = sums.iter().zip(squares).map(|(s, q)| s * s - q).sum();
    let variance: f64 = squares
        .iter()
        .zip(fourths)
        .map(|(q, f)| 2.0 * (q * q - f))
        .sum();
    if variance <= 0.0 {
        return 0.0;
    }
    pairs / variance.sqrt()
}

/// Reads the mark `key` placed in the JPEG `jpeg`, if any; files of other
/// formats carry none.
pub(crate) fn read(jpeg: &[u8], key: Option<&str>, max_pixels: u64) -> Result<WatermarkRead> {
    if sniff(jpeg)? != Format::Jpeg {
        return Ok(WatermarkRead::Absent);
    }
    let dc = read_luma_dc(jpeg, max_pixels)?;
    let count = dc.values.len();
    let frames = [SHORT_FRAME, LONG_FRAME].map(|bytes| code::coded_len(bytes * 8));
    let carries = |block: usize| dc.texture[block] >= MIN_TEXTURE;
    let placement = Placement::new(key, count, COPIES * frames[1], carries);
    let prefixes = frames.map(|coded| placement.prefix(COPIES * coded, carries));
    let steps = std::iter::once(dc.step).chain((1..=MAX_STEP).filter(|&step| step != dc.step));
    let mut present = false;
    for step in steps {
        // Each position's soft value: +1 for an even multiple of the step,
        // -1 for an odd one, in between for a DC a re-encode moved; 0 where
        // the block is flat and carries nothing.
        let mut found: Option<Watermark> = None;
        let soft: Vec<f64> = placement
            .blocks
            .iter()
            .zip(&placement.flips)
            .map(|(&block, &flip)| {
                let block = block as usize;
                if !carries(block) {
                    return 0.0;
                }
                let value =
                    (std::f64::consts::PI * f64::from(dc.values[block]) / f64::from(step)).cos();
                if flip {
                    -value
                } else {
                    value
                }
            })
            .collect();
        for ((frame_bytes, coded), prefix) in [SHORT_FRAME, LONG_FRAME]
            .into_iter()
            .zip(frames)
            .zip(prefixes)
        {
            let (mut sums, mut squares, mut fourths) =
                (vec![0.0; coded], vec![0.0; coded], vec![0.0; coded]);
            for (p, &y) in soft[..prefix].iter().enumerate() {
                sums[p % coded] += y;
                squares[p % coded] += y * y;
                fourths[p % coded] += y.powi(4);
            }
            let frame = bytes(&code::decode(&sums, frame_bytes * 8));
            if let Some(mark) = Watermark::from_frame(&frame) {
                // A file marked twice may hold both sizes of frame: the
                // later mark is the one that counts.
                if !matches!(&found, Some(old) if old.time >= mark.time) {
                    found = Some(mark);
                }
            }
            present |= agreement(&sums, &squares, &fourths) > PRESENT_Z;
        }
        if let Some(mark) = found {
            return Ok(WatermarkRead::Found(mark));
        }
    }
    Ok(if present {
        WatermarkRead::Damaged
    } else {
        WatermarkRead::Absent
    })
}

/// Parses `watermark_data`: text (its UTF-8 bytes) or `hex:` and hex digits.
pub(crate) fn parse_data(text: &str) -> Result<Vec<u8>> {
    let bytes = match text.strip_prefix("hex:") {
        Some(hex) => {
            if hex.len() % 2 != 0 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(Error::option(
                    "watermark_data",
                    "`hex:` needs pairs of hex digits",
                ));
            }
            (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("checked hex digits"))
                .collect()
        }
        None => text.as_bytes().to_vec(),
    };
    if bytes.len() > MAX_WATERMARK_DATA {
        return Err(Error::option(
            "watermark_data",
            format!("{} bytes; at most {MAX_WATERMARK_DATA}", bytes.len()),
        ));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests;
