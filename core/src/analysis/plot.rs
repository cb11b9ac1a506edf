//! An SVG drawing of an [`Analysis`]: score against bytes (log scale), one
//! curve per format, the Pareto front dashed over them.

use super::{Analysis, RatePoint};
use crate::format::Format;
use std::fmt::Write;

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 480.0;
/// Plot area margins: left, right, top, bottom.
const MARGIN: (f64, f64, f64, f64) = (64.0, 128.0, 24.0, 48.0);

fn color(format: Format) -> &'static str {
    match format {
        Format::Jpeg => "#d62728",
        Format::WebP => "#1f77b4",
        Format::Avif => "#2ca02c",
        Format::Heic => "#9467bd",
        _ => "#7f7f7f",
    }
}

/// Byte counts as people read them: `850 B`, `12.5 KB`, `1.2 MB` (powers of 1000).
fn human_bytes(bytes: f64) -> String {
    if bytes >= 1e6 {
        format!("{:.1} MB", bytes / 1e6)
    } else if bytes >= 1e3 {
        format!("{:.0} KB", bytes / 1e3)
    } else {
        format!("{bytes:.0} B")
    }
}

impl Analysis {
    /// The curves as a standalone SVG document: x is bytes on a log scale,
    /// y is the score; each format is a line through its settings (labelled
    /// with the quality), lossless PNG a lone point, and the Pareto front a
    /// dashed black line.
    pub fn to_svg(&self) -> String {
        let finite: Vec<&RatePoint> = self.points.iter().filter(|p| p.score.is_finite()).collect();
        let (mut x0, mut x1) = finite.iter().fold((f64::MAX, f64::MIN), |(lo, hi), p| {
            let b = (p.bytes.max(1) as f64).log10();
            (lo.min(b), hi.max(b))
        });
        let (mut y0, mut y1) = finite.iter().fold((f64::MAX, f64::MIN), |(lo, hi), p| {
            (lo.min(p.score), hi.max(p.score))
        });
        if finite.is_empty() {
            (x0, x1, y0, y1) = (0.0, 1.0, 0.0, 1.0);
        }
        // Padding, and whole decades and tens around the data.
        (x0, x1) = ((x0 - 0.05).floor().min(x1 - 1.0), (x1 + 0.05).ceil());
        let y_step = nice_step(y1 - y0);
        (y0, y1) = (
            ((y0 - y_step * 0.5) / y_step).floor() * y_step,
            ((y1 + y_step * 0.5) / y_step).ceil() * y_step,
        );
        let (left, right, top, bottom) = MARGIN;
        let (pw, ph) = (WIDTH - left - right, HEIGHT - top - bottom);
        let sx = |bytes: usize| left + ((bytes.max(1) as f64).log10() - x0) / (x1 - x0) * pw;
        let sy = |score: f64| top + (y1 - score) / (y1 - y0) * ph;

        let mut svg = String::new();
        let _ = writeln!(
            svg,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="11">"#
        );
        let _ = writeln!(
            svg,
            r#"<title>{} against bytes, {}x{}</title><rect width="100%" height="100%" fill="white"/>"#,
            self.metric, self.width, self.height
        );
        // Grid and axes.
        let mut decade = x0;
        while decade <= x1 + 1e-9 {
            for sub in [1.0, 2.0, 5.0] {
                let bytes = 10f64.powf(decade) * sub;
                let x = left + (bytes.log10() - x0) / (x1 - x0) * pw;
                if x > left + pw + 0.5 {
                    continue;
                }
                let _ = writeln!(
                    svg,
                    r##"<line x1="{x:.1}" y1="{top}" x2="{x:.1}" y2="{:.1}" stroke="#ddd"/><text x="{x:.1}" y="{:.1}" text-anchor="middle">{}</text>"##,
                    top + ph,
                    top + ph + 16.0,
                    human_bytes(bytes)
                );
            }
            decade += 1.0;
        }
        let mut score = y0;
        while score <= y1 + 1e-9 {
            let y = sy(score);
            let _ = writeln!(
                svg,
                r##"<line x1="{left}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##,
                left + pw,
                left - 6.0,
                y + 4.0,
                trim_number(score)
            );
            score += y_step;
        }
        let _ = writeln!(
            svg,
            r##"<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#333"/><text x="{:.1}" y="{:.1}" text-anchor="middle">bytes (log scale)</text><text transform="translate(16 {:.1}) rotate(-90)" text-anchor="middle">{}</text>"##,
            left + pw / 2.0,
            HEIGHT - 8.0,
            top + ph / 2.0,
            self.metric
        );
        // One curve per format, in the order the points came.
        let mut formats: Vec<Format> = Vec::new();
        for p in &finite {
            if !formats.contains(&p.format) {
                formats.push(p.format);
            }
        }
        for (row, &format) in formats.iter().enumerate() {
            let mut curve: Vec<&&RatePoint> =
                finite.iter().filter(|p| p.format == format).collect();
            curve.sort_by_key(|p| p.bytes);
            let c = color(format);
            let points: Vec<String> = curve
                .iter()
                .map(|p| format!("{:.1},{:.1}", sx(p.bytes), sy(p.score)))
                .collect();
            if curve.len() > 1 {
                let _ = writeln!(
                    svg,
                    r#"<polyline points="{}" fill="none" stroke="{c}" stroke-width="1.5"/>"#,
                    points.join(" ")
                );
            }
            for p in &curve {
                let (x, y) = (sx(p.bytes), sy(p.score));
                let label = p
                    .quality
                    .map_or("lossless".to_string(), |q| format!("q{q}"));
                let _ = writeln!(
                    svg,
                    r#"<circle cx="{x:.1}" cy="{y:.1}" r="3" fill="{c}"><title>{} {label}: {} bytes, {:.2}</title></circle>"#,
                    format, p.bytes, p.score
                );
            }
            let ly = top + 12.0 + row as f64 * 18.0;
            let lx = left + pw + 12.0;
            let _ = writeln!(
                svg,
                r#"<line x1="{lx}" y1="{ly}" x2="{:.1}" y2="{ly}" stroke="{c}" stroke-width="2"/><text x="{:.1}" y="{:.1}">{format}</text>"#,
                lx + 20.0,
                lx + 26.0,
                ly + 4.0
            );
        }
        let front: Vec<String> = self
            .front()
            .iter()
            .filter(|p| p.score.is_finite())
            .map(|p| format!("{:.1},{:.1}", sx(p.bytes), sy(p.score)))
            .collect();
        let ly = top + 12.0 + formats.len() as f64 * 18.0;
        let lx = left + pw + 12.0;
        let _ = writeln!(
            svg,
            r#"<polyline points="{}" fill="none" stroke="black" stroke-width="1" stroke-dasharray="4 3"/><line x1="{lx}" y1="{ly}" x2="{:.1}" y2="{ly}" stroke="black" stroke-dasharray="4 3"/><text x="{:.1}" y="{:.1}">Pareto front</text>"#,
            front.join(" "),
            lx + 20.0,
            lx + 26.0,
            ly + 4.0
        );
        svg.push_str("</svg>\n");
        svg
    }
}

/// A grid step of 1, 2 or 5 times a power of ten giving 4 to 10 lines over `span`.
fn nice_step(span: f64) -> f64 {
    let span = if span > 0.0 { span } else { 1.0 };
    let magnitude = 10f64.powf((span / 5.0).log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|step| span / step <= 8.0)
        .unwrap_or(10.0 * magnitude)
}

fn trim_number(v: f64) -> String {
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quality::Metric;

    #[test]
    fn draws_every_point_and_the_front() {
        let point = |format, quality, bytes, score, pareto| RatePoint {
            format,
            quality,
            bytes,
            score,
            pareto,
        };
        let analysis = Analysis {
            width: 64,
            height: 48,
            metric: Metric::Ssimulacra2,
            points: vec![
                point(Format::Jpeg, Some(50), 2_000, 60.0, true),
                point(Format::Jpeg, Some(90), 9_000, 85.0, false),
                point(Format::Avif, Some(60), 3_000, 80.0, true),
                point(Format::Png, None, 40_000, 100.0, true),
            ],
        };
        let svg = analysis.to_svg();
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches("<circle").count(), 4);
        assert_eq!(svg.matches("stroke-dasharray=\"4 3\"/>").count(), 2);
        assert!(svg.contains("jpeg q90: 9000 bytes"), "{svg}");
        assert!(svg.contains("png lossless"));
    }

    #[test]
    fn steps_are_round() {
        assert_eq!(nice_step(40.0), 5.0);
        assert!((nice_step(0.03) - 0.005).abs() < 1e-12);
        assert_eq!(nice_step(100.0), 20.0);
    }
}
