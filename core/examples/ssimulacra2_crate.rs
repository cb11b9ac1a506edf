//! Scores two images with the `ssimulacra2` crate (rust-av's port of
//! libjxl's tool) and with pixpress's own SSIMULACRA2, side by side: the
//! reference check for `pixpress score`.
//!
//! `cargo run --release -p pixpress --example ssimulacra2_crate REFERENCE DISTORTED`

use ssimulacra2::{ColorPrimaries, Rgb, TransferCharacteristic};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [reference, distorted] = args.as_slice() else {
        return Err("usage: ssimulacra2_crate REFERENCE DISTORTED".into());
    };
    let (a, b) = (std::fs::read(reference)?, std::fs::read(distorted)?);
    let frame = |data: &[u8]| -> Result<Rgb, Box<dyn std::error::Error>> {
        let image = pixpress::decode(data, &pixpress::Options::default())?.image;
        let image = image
            .convert(pixpress::Layout::Rgb, pixpress::Rgba8::WHITE)
            .into_u8();
        let pixpress::Samples::U8(samples) = &image.samples else {
            unreachable!("into_u8 gives 8-bit samples")
        };
        let rgb = samples
            .chunks_exact(3)
            .map(|p| [p[0], p[1], p[2]].map(|v| f32::from(v) / 255.0))
            .collect();
        let (w, h) = (image.width as usize, image.height as usize);
        Ok(Rgb::new(
            rgb,
            w,
            h,
            TransferCharacteristic::SRGB,
            ColorPrimaries::BT709,
        )?)
    };
    let started = std::time::Instant::now();
    let theirs = ssimulacra2::compute_frame_ssimulacra2(frame(&a)?, frame(&b)?)?;
    let their_time = started.elapsed();
    let started = std::time::Instant::now();
    let ours = pixpress::score(&a, &b, pixpress::Metric::Ssimulacra2)?;
    let our_time = started.elapsed();
    println!(
        "crate {theirs:.4} ({:.2} s)  pixpress {ours:.4} ({:.2} s)  difference {:.3}%",
        their_time.as_secs_f64(),
        our_time.as_secs_f64(),
        (ours - theirs).abs() / theirs.abs() * 100.0
    );
    Ok(())
}
