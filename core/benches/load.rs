//! Load test through the Rust API (issue 9): 1,000 requests of mixed sizes
//! drawn from the corpus (seeded), sent by 64 concurrent callers (closed
//! loop: each sends its next request when the last one returns) to a server
//! of 2 worker threads, each request "fit into 1600x1600, JPEG q80".
//!
//! Reports P50/P95/P99 latency (queueing included), throughput and peak RSS,
//! and the same percentiles for ideal queueing: a simulated 2-server FIFO
//! queue fed by the same closed loop with each request's measured service
//! time. The target is a measured P99 within 1.2x of the ideal one.
//!
//! `make bench-load` (or `cargo bench -p pixpress --bench load`);
//! `PXP_LOAD_REQUESTS` and `PXP_LOAD_CALLERS` change the load.

#[path = "common/rss.rs"]
mod rss;

use pixpress::Options;
use std::collections::VecDeque;
use std::path::Path;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const WORKERS: usize = 2;

/// Corpus files the requests are drawn from: JPEG, PNG, WebP and GIF inputs
/// up to 4 MB, in a seeded order.
fn inputs(corpus: &Path) -> Vec<(String, Arc<Vec<u8>>)> {
    let mut files = Vec::new();
    for dir in ["jpeg", "png", "webp", "gif"] {
        let Ok(entries) = std::fs::read_dir(corpus.join(dir)) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let size = entry.metadata().map(|m| m.len()).unwrap_or(0);
            if size > 0 && size <= 4 << 20 {
                let data = std::fs::read(&path).expect("read");
                if pixpress::probe(&data).is_ok() {
                    files.push((
                        format!("{dir}/{}", entry.file_name().to_string_lossy()),
                        data,
                    ));
                }
            }
        }
    }
    files.sort();
    // A fixed shuffle (xorshift), so every run sends the same sequence.
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    for i in (1..files.len()).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        files.swap(i, (state % (i as u64 + 1)) as usize);
    }
    files.into_iter().map(|(n, d)| (n, Arc::new(d))).collect()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Latencies of an ideal FIFO queue of `WORKERS` servers fed by `callers`
/// closed-loop callers, caller `c` sending requests `c, c + callers, ...`,
/// each taking its measured `service` time (a discrete-event simulation).
fn ideal_latencies(service: &[Duration], callers: usize) -> Vec<Duration> {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;
    // Events by (time, sequence): an arrival (`true`) or a completion of a request.
    let mut events = BinaryHeap::new();
    let mut sequence = 0u64;
    for request in 0..callers.min(service.len()) {
        events.push(Reverse((Duration::ZERO, sequence, true, request)));
        sequence += 1;
    }
    let mut arrived = vec![Duration::ZERO; service.len()];
    let mut waiting = VecDeque::new();
    let mut idle = WORKERS;
    let mut latencies = Vec::with_capacity(service.len());
    while let Some(Reverse((now, _, is_arrival, request))) = events.pop() {
        if is_arrival {
            arrived[request] = now;
            waiting.push_back(request);
        } else {
            idle += 1;
            latencies.push(now - arrived[request]);
            let next = request + callers;
            if next < service.len() {
                events.push(Reverse((now, sequence, true, next)));
                sequence += 1;
            }
        }
        while idle > 0 {
            let Some(next) = waiting.pop_front() else {
                break;
            };
            idle -= 1;
            events.push(Reverse((now + service[next], sequence, false, next)));
            sequence += 1;
        }
    }
    latencies
}

fn main() {
    let corpus = std::env::var("PIXPRESS_CORPUS").unwrap_or_else(|_| "../shared/corpus".into());
    let requests: usize = std::env::var("PXP_LOAD_REQUESTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let callers: usize = std::env::var("PXP_LOAD_CALLERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    let files = inputs(Path::new(&corpus));
    assert!(!files.is_empty(), "no corpus inputs under {corpus}");
    let mut options = Options::default();
    options.set("format", "jpeg").unwrap();
    options.set("quality", "80").unwrap();
    options.set("resize", "1600x1600").unwrap();
    let options = Arc::new(options);

    // The server: WORKERS threads serving a FIFO queue.
    type Job = (
        usize,
        Instant,
        mpsc::Sender<(usize, Duration, Duration, bool)>,
    );
    let (submit, queue) = mpsc::channel::<Job>();
    let queue = Arc::new(Mutex::new(queue));
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let (queue, files, options) = (queue.clone(), files.clone(), options.clone());
            std::thread::spawn(move || loop {
                let job = queue.lock().expect("queue").recv();
                let Ok((request, submitted, reply)) = job else {
                    break;
                };
                let started = Instant::now();
                let input = &files[request % files.len()].1;
                let ok = pixpress::compress(input, &options).is_ok();
                let done = Instant::now();
                let _ = reply.send((request, done - started, done - submitted, ok));
            })
        })
        .collect();

    let started = Instant::now();
    let results = Arc::new(Mutex::new(Vec::with_capacity(requests)));
    std::thread::scope(|scope| {
        for caller in 0..callers {
            let (submit, results) = (submit.clone(), results.clone());
            scope.spawn(move || {
                let (reply, replies) = mpsc::channel();
                for request in (caller..requests).step_by(callers) {
                    submit
                        .send((request, Instant::now(), reply.clone()))
                        .expect("server");
                    let result = replies.recv().expect("reply");
                    results.lock().expect("results").push(result);
                }
            });
        }
    });
    let wall = started.elapsed();
    drop(submit);
    for w in workers {
        w.join().expect("worker");
    }
    let mut results = Arc::try_unwrap(results)
        .expect("callers done")
        .into_inner()
        .expect("results");
    results.sort_by_key(|r| r.0);
    let failed = results.iter().filter(|r| !r.3).count();
    let service: Vec<Duration> = results.iter().map(|r| r.1).collect();
    let mut measured: Vec<Duration> = results.iter().map(|r| r.2).collect();
    measured.sort();
    let mut ideal = ideal_latencies(&service, callers);
    ideal.sort();
    let mut service_sorted = service.clone();
    service_sorted.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{requests} requests from {} corpus files ({failed} refused), {callers} callers, {WORKERS} workers; fit 1600x1600, JPEG q80",
        files.len()
    );
    println!("\n| latency | P50 ms | P95 ms | P99 ms |");
    println!("|---|---:|---:|---:|");
    for (name, values) in [
        ("measured (queue + service)", &measured),
        ("ideal 2-server FIFO, same service times", &ideal),
        ("service time alone", &service_sorted),
    ] {
        println!(
            "| {name} | {:.1} | {:.1} | {:.1} |",
            ms(percentile(values, 50.0)),
            ms(percentile(values, 95.0)),
            ms(percentile(values, 99.0))
        );
    }
    println!(
        "\nthroughput {:.1} requests/s over {:.2} s; P99 measured / ideal {:.2}x (target <= 1.2x); peak RSS {} MiB",
        requests as f64 / wall.as_secs_f64(),
        wall.as_secs_f64(),
        ms(percentile(&measured, 99.0)) / ms(percentile(&ideal, 99.0)),
        rss::peak_rss_kb() / 1024
    );
    let pool = pixpress::buffer_pool_stats();
    println!(
        "buffer pools: limit {} MiB (PIXPRESS_POOL_BYTES), {} hits, {} misses",
        pool.limit_bytes >> 20,
        pool.hits,
        pool.misses
    );
}
