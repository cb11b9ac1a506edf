//! Where a call's data-parallel work runs.
//!
//! pixpress splits large work (JPEG strips, resizing, metrics, the rate
//! sweep of `analyze`) with rayon on
//! its global pool. When that pool has one thread (`RAYON_NUM_THREADS=1`, as
//! a host that runs one call per core on threads of its own sets it), the
//! parallel sections of every caller would queue for that one worker, and
//! concurrent calls would run one at a time. [`run`] gives each calling
//! thread a one-thread pool of its own instead, so those calls run side by
//! side as the host meant.

//!
//! A process forked after its first parallel call (a pre-forking server, a
//! `multiprocessing` pool started with `fork`) has the global pool's state but
//! none of its threads: a call into it would wait forever. [`run`] notices the
//! fork (the process id changed) and runs the child's calls on a pool of the
//! child's own, made on first use.

use std::cell::OnceCell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Once};

/// Set in a child process by the fork handler [`watch_forks`] registers.
static FORKED: AtomicBool = AtomicBool::new(false);

extern "C" fn mark_forked() {
    // Async-signal-safe: one atomic store.
    FORKED.store(true, Ordering::Relaxed);
}

/// Registers (once per process) the handler that tells a forked child its
/// global pool may have no threads. Called before any pool is used.
pub(crate) fn watch_forks() {
    static REGISTERED: Once = Once::new();
    REGISTERED.call_once(|| {
        // SAFETY: `mark_forked` is a valid `extern "C" fn()` for the life of
        // the process and does nothing but an atomic store (async-signal-safe,
        // as a child handler after fork must be); the NULL handlers are allowed.
        unsafe {
            libc::pthread_atfork(None, None, Some(mark_forked));
        }
    });
}

/// A forked child's own pool, with the process it belongs to.
static FORKED_POOL: Mutex<Option<(u32, Arc<rayon::ThreadPool>)>> = Mutex::new(None);

/// This process's own pool when it is a child forked after pixpress was
/// first used; `None` otherwise.
fn forked_pool() -> Option<Arc<rayon::ThreadPool>> {
    if !FORKED.load(Ordering::Relaxed) {
        return None;
    }
    let me = std::process::id();
    // A poisoned lock only means another caller panicked while holding it;
    // the value is still a pool or nothing.
    let mut slot = FORKED_POOL.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((pid, pool)) = slot.as_ref() {
        if *pid == me {
            return Some(Arc::clone(pool));
        }
    }
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let pool = Arc::new(
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("pixpress-forked-{i}"))
            .build()
            .ok()?,
    );
    *slot = Some((me, Arc::clone(&pool)));
    Some(pool)
}

thread_local! {
    /// The calling thread's own one-thread pool, made on first use and ended
    /// with the thread.
    static OWN_POOL: OnceCell<Option<rayon::ThreadPool>> = const { OnceCell::new() };
}

/// Runs `work`, whose rayon calls use the global pool when it has two threads
/// or more (or when `work` is already on a pool's thread), and otherwise a
/// one-thread pool belonging to the calling thread. The result does not
/// depend on where it ran.
pub(crate) fn run<T: Send>(work: impl FnOnce() -> T + Send) -> T {
    watch_forks();
    if rayon::current_thread_index().is_none() {
        if let Some(pool) = forked_pool() {
            return pool.install(work);
        }
    }
    run_given(rayon::current_num_threads(), work)
}

/// [`run`] for work that waits for its own rayon jobs by polling (oxipng's
/// trials loop on `rayon::yield_local` until every trial is done). On a
/// thread outside every pool that loop only spins, taking a core from the
/// workers it waits for; so the work moves onto a worker, where waiting runs
/// the awaited jobs, and the caller sleeps until it is done.
pub(crate) fn run_on_a_worker<T: Send>(work: impl FnOnce() -> T + Send) -> T {
    run(|| {
        if rayon::current_thread_index().is_some() {
            work()
        } else {
            rayon::scope(|_| work())
        }
    })
}

/// [`run`] for a global pool of `global_threads` threads.
fn run_given<T: Send>(global_threads: usize, work: impl FnOnce() -> T + Send) -> T {
    if global_threads > 1 || rayon::current_thread_index().is_some() {
        return work();
    }
    OWN_POOL.with(|pool| {
        let pool = pool.get_or_init(|| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(1)
                .thread_name(|_| "pixpress-own-pool".into())
                .build()
                .ok()
        });
        match pool {
            Some(pool) => pool.install(work),
            None => work(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::{run_given, run_on_a_worker};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    #[test]
    fn callers_of_a_one_thread_global_pool_run_side_by_side() {
        // Each caller waits inside its work until both are inside theirs,
        // which one shared worker could never allow.
        let inside = Arc::new(AtomicUsize::new(0));
        let callers: Vec<_> = (0..2)
            .map(|_| {
                let inside = Arc::clone(&inside);
                std::thread::spawn(move || {
                    let caller = std::thread::current().id();
                    run_given(1, move || {
                        inside.fetch_add(1, Ordering::SeqCst);
                        let deadline = Instant::now() + Duration::from_secs(20);
                        while inside.load(Ordering::SeqCst) < 2 && Instant::now() < deadline {
                            std::thread::yield_now();
                        }
                        let worker = std::thread::current().id();
                        (inside.load(Ordering::SeqCst), caller, worker)
                    })
                })
            })
            .collect();
        let results: Vec<_> = callers.into_iter().map(|c| c.join().unwrap()).collect();
        for (seen, caller, worker) in &results {
            assert_eq!(*seen, 2, "the other caller's work never started");
            assert_ne!(caller, worker, "work runs on the caller's own pool");
        }
        assert_ne!(results[0].2, results[1].2, "one pool per caller");
    }

    #[test]
    fn a_wider_global_pool_is_used_as_it_is() {
        let caller = std::thread::current().id();
        assert_eq!(run_given(2, || std::thread::current().id()), caller);
    }

    #[test]
    fn polling_work_runs_on_a_worker_not_on_the_caller() {
        assert!(rayon::current_thread_index().is_none());
        assert!(run_on_a_worker(|| rayon::current_thread_index().is_some()));
    }
}
