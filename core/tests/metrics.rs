//! Live metrics: the Prometheus text parses (checked line by line against the
//! exposition format's rules) and counts exactly the calls made, and every
//! stage opens a `tracing` span a host's subscriber sees. One test in its own
//! binary, since the statistics are process-wide.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

const HOPPER: &[u8] = include_bytes!("data/hopper.jpg");

/// A subscriber that only records the names of the spans opened.
#[derive(Default)]
struct SpanNames {
    names: Mutex<Vec<String>>,
    next: AtomicU64,
}

impl Subscriber for SpanNames {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &Attributes<'_>) -> Id {
        self.names
            .lock()
            .unwrap()
            .push(span.metadata().name().to_string());
        Id::from_u64(self.next.fetch_add(1, Ordering::Relaxed) + 1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, _: &Event<'_>) {}
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

/// Families declared by `# TYPE`, and every sample as `name{labels}` -> value.
struct Scrape {
    types: HashMap<String, String>,
    samples: HashMap<String, f64>,
}

impl Scrape {
    /// Parses exposition text, failing on any line the format does not allow.
    fn parse(text: &str) -> Scrape {
        let mut types = HashMap::new();
        let mut helped = Vec::new();
        let mut samples = HashMap::new();
        let valid_name = |n: &str| {
            n.starts_with("pixpress_") && n.chars().all(|c| c.is_ascii_lowercase() || c == '_')
        };
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# HELP ") {
                let (name, help) = rest.split_once(' ').expect("HELP has text");
                assert!(valid_name(name) && !help.is_empty(), "{line}");
                helped.push(name.to_string());
            } else if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').expect("TYPE has a kind");
                assert!(valid_name(name), "{line}");
                assert!(["counter", "gauge", "histogram"].contains(&kind), "{line}");
                assert!(
                    helped.last().is_some_and(|h| h == name),
                    "TYPE after its HELP: {line}"
                );
                if kind == "counter" {
                    assert!(name.ends_with("_total"), "counters end in _total: {line}");
                }
                assert!(
                    types.insert(name.to_string(), kind.to_string()).is_none(),
                    "{line}"
                );
            } else {
                let (series, value) = line.rsplit_once(' ').expect("a sample has a value");
                let value: f64 = value.parse().unwrap_or_else(|_| panic!("value in {line}"));
                let name = series.split('{').next().unwrap();
                assert!(valid_name(name), "{line}");
                let family = ["_bucket", "_sum", "_count"]
                    .iter()
                    .find_map(|suffix| {
                        name.strip_suffix(suffix)
                            .filter(|f| types.get(*f).is_some_and(|k| k == "histogram"))
                    })
                    .unwrap_or(name);
                assert!(
                    types.contains_key(family),
                    "sample of an undeclared family: {line}"
                );
                if let Some(labels) = series.strip_prefix(name) {
                    if !labels.is_empty() {
                        assert!(labels.starts_with('{') && labels.ends_with('}'), "{line}");
                        for pair in labels[1..labels.len() - 1].split(',') {
                            let (key, quoted) = pair.split_once('=').expect("key=value");
                            assert!(key.chars().all(|c| c.is_ascii_lowercase() || c == '_'));
                            assert!(quoted.starts_with('"') && quoted.ends_with('"'), "{line}");
                        }
                    }
                }
                assert!(
                    samples.insert(series.to_string(), value).is_none(),
                    "duplicate {line}"
                );
            }
        }
        Scrape { types, samples }
    }

    fn get(&self, series: &str) -> f64 {
        *self
            .samples
            .get(series)
            .unwrap_or_else(|| panic!("no sample {series}"))
    }
}

#[test]
fn prometheus_text_parses_and_counts_the_calls_made() {
    let spans = Arc::new(SpanNames::default());
    tracing::subscriber::set_global_default(spans.clone()).expect("first subscriber");

    let before = Scrape::parse(&pixpress::metrics_prometheus());
    let mut webp = pixpress::Options::default();
    webp.set("format", "webp").unwrap();
    let mut out_bytes = 0.0;
    for quality in ["50", "70", "90"] {
        webp.set("quality", quality).unwrap();
        out_bytes += pixpress::compress(HOPPER, &webp).unwrap().data.len() as f64;
    }
    let mut target = pixpress::Options::default();
    target.set("format", "jpeg").unwrap();
    target.set("target", "ssimulacra2=70").unwrap();
    out_bytes += pixpress::compress(HOPPER, &target).unwrap().data.len() as f64;
    let err = pixpress::compress(b"GIF87a not really", &webp).unwrap_err();
    let failed_kind = err.kind().code();
    assert!(pixpress::compress(b"plain text", &webp).is_err());

    let text = pixpress::metrics_prometheus();
    let after = Scrape::parse(&text);
    let delta = |series: &str| after.get(series) - before.get(series);
    assert_eq!(delta("pixpress_images_total"), 4.0);
    assert_eq!(
        delta("pixpress_input_bytes_total"),
        4.0 * HOPPER.len() as f64
    );
    assert_eq!(delta("pixpress_output_bytes_total"), out_bytes);
    assert_eq!(
        delta("pixpress_errors_total{kind=\"PXP_ERR_UNSUPPORTED_FORMAT\"}"),
        1.0 + f64::from(failed_kind == "PXP_ERR_UNSUPPORTED_FORMAT"),
        "{text}"
    );
    if failed_kind != "PXP_ERR_UNSUPPORTED_FORMAT" {
        assert_eq!(
            delta(&format!("pixpress_errors_total{{kind=\"{failed_kind}\"}}")),
            1.0
        );
    }
    assert_eq!(after.get("pixpress_operations_in_flight"), 0.0);
    assert_eq!(after.types["pixpress_stage_duration_seconds"], "histogram");
    for (stage, runs) in [
        ("decode", 4.0),
        ("transform", 4.0),
        ("encode", 4.0),
        ("search", 1.0),
    ] {
        let count = format!("pixpress_stage_duration_seconds_count{{stage=\"{stage}\"}}");
        assert_eq!(delta(&count), runs, "{stage}");
    }
    // The metadata policy ran at least once per output (a search runs it per trial).
    let metadata = "pixpress_stage_duration_seconds_count{stage=\"metadata\"}";
    assert!(delta(metadata) >= 4.0);
    // Buckets are cumulative and end at the count.
    for stage in pixpress::StatStage::ALL {
        let label = format!("stage=\"{}\"", stage.name());
        let mut last = 0.0;
        for bound in pixpress::BUCKET_BOUNDS {
            let n = after.get(&format!(
                "pixpress_stage_duration_seconds_bucket{{{label},le=\"{bound}\"}}"
            ));
            assert!(n >= last, "{label} bucket {bound}");
            last = n;
        }
        let all = after.get(&format!(
            "pixpress_stage_duration_seconds_bucket{{{label},le=\"+Inf\"}}"
        ));
        let count = after.get(&format!("pixpress_stage_duration_seconds_count{{{label}}}"));
        assert!(all >= last && all == count, "{label}");
    }
    // The Rust snapshot says the same.
    let stats = pixpress::stats();
    assert_eq!(stats.images as f64, after.get("pixpress_images_total"));

    let names = spans.names.lock().unwrap();
    for span in [
        "pixpress.compress",
        "pixpress.decode",
        "pixpress.transform",
        "pixpress.encode",
        "pixpress.metadata",
        "pixpress.search",
    ] {
        assert!(
            names.iter().any(|n| n == span),
            "no {span} span in {names:?}"
        );
    }
}
