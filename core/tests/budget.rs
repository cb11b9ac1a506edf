//! The memory budget: concurrent compress calls are admitted by their
//! estimated memory and wait rather than go over it; a call larger than the
//! budget still runs, alone. One test in its own binary, since the budget is
//! process-wide.

use pixpress::{Image, Layout, Metadata, Options};

/// A 2000x1500 photo-like JPEG (smooth gradients and a pattern).
fn input() -> Vec<u8> {
    let (w, h) = (2000u32, 1500u32);
    let data = (0..h)
        .flat_map(|y| {
            (0..w).flat_map(move |x| [(x / 8) as u8, (y / 6) as u8, ((x ^ y) & 0xff) as u8])
        })
        .collect();
    let image = Image::from_u8(w, h, Layout::Rgb, data).unwrap();
    let mut options = Options::default();
    options.set("format", "jpeg").unwrap();
    pixpress::encode_image(image, &Metadata::default(), &options)
        .unwrap()
        .data
}

#[test]
fn calls_wait_for_the_budget_and_never_exceed_it() {
    let input = input();
    let estimate = 2000 * 1500 * 3 * 25 / 10 + input.len() as u64;
    let mut webp = Options::default();
    webp.set("format", "webp").unwrap();
    let compress_from_threads = |threads: usize| {
        std::thread::scope(|scope| {
            for _ in 0..threads {
                scope.spawn(|| {
                    for _ in 0..2 {
                        pixpress::compress(&input, &webp).unwrap();
                    }
                });
            }
        });
    };

    // Room for one call at a time: 4 threads of 2 calls each all finish, one by one.
    pixpress::set_memory_budget(Some(estimate * 3 / 2));
    compress_from_threads(4);
    let (budget, admitted, peak, waits) = pixpress::memory_budget();
    assert_eq!(budget, Some(estimate * 3 / 2));
    assert_eq!(admitted, 0, "everything released");
    assert_eq!(peak, estimate, "one call admitted at a time");
    assert!(waits >= 1, "calls waited");
    let stats = pixpress::stats();
    assert_eq!(stats.memory_budget, budget);
    assert_eq!(stats.admission_waits, waits);
    assert!(pixpress::metrics_prometheus().contains(&format!(
        "pixpress_memory_budget_bytes {}",
        estimate * 3 / 2
    )));

    // Room for two: still never over.
    pixpress::set_memory_budget(Some(estimate * 2));
    compress_from_threads(4);
    let (_, admitted, peak, _) = pixpress::memory_budget();
    assert_eq!(admitted, 0);
    assert!(peak <= estimate * 2, "peak {peak} over the budget");

    // A call larger than the whole budget runs alone instead of waiting forever.
    pixpress::set_memory_budget(Some(1));
    assert!(pixpress::compress(&input, &webp).is_ok());
    pixpress::set_memory_budget(None);
    assert_eq!(pixpress::memory_budget().0, None);
}
