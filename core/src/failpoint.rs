//! Crash injection for the crash tests: `PIXPRESS_FAILPOINT=NAME:N` makes the
//! process kill itself with SIGKILL the N-th time it reaches the point NAME
//! (for example `output.before_rename:7`); a point whose name starts with
//! `panic.` panics there instead, for the tests of the panic boundaries; one
//! whose name starts with `sleep.` sleeps N milliseconds every time it is
//! reached, for the service's tests of deadlines and queues (a slow request
//! whose time does not depend on the machine).
//! Without the variable a point costs one relaxed atomic load.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

struct Armed {
    name: String,
    n: u64,
    countdown: AtomicU64,
}

fn armed() -> Option<&'static Armed> {
    static ARMED: OnceLock<Option<Armed>> = OnceLock::new();
    ARMED
        .get_or_init(|| {
            let spec = std::env::var("PIXPRESS_FAILPOINT").ok()?;
            let (name, n) = spec.rsplit_once(':')?;
            let n = n.parse().ok()?;
            Some(Armed {
                name: name.to_string(),
                n,
                countdown: AtomicU64::new(n),
            })
        })
        .as_ref()
}

/// Marks the point `name`; kills the process (or panics, for `panic.*`)
/// when it is the armed one and its count is reached; sleeps, for `sleep.*`.
pub(crate) fn hit(name: &str) {
    if let Some(armed) = armed() {
        if armed.name == name && name.starts_with("sleep.") {
            std::thread::sleep(std::time::Duration::from_millis(armed.n));
            return;
        }
        if armed.name == name && armed.countdown.fetch_sub(1, Ordering::SeqCst) == 1 {
            if name.starts_with("panic.") {
                panic!("failpoint {name} reached");
            }
            // SAFETY: `getpid` has no preconditions and always succeeds; `kill`
            // takes plain integers (our own pid and SIGKILL) and touches no
            // memory of ours.
            unsafe {
                libc::kill(libc::getpid(), libc::SIGKILL);
            }
        }
    }
}
