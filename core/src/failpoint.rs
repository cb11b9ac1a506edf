//! Crash injection for the crash tests: `PIXPRESS_FAILPOINT=NAME:N` makes the
//! process kill itself with SIGKILL the N-th time it reaches the point NAME
//! (for example `output.before_rename:7`); a point whose name starts with
//! `panic.` panics there instead, for the tests of the panic boundaries.
//! Without the variable a point costs one relaxed atomic load.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

struct Armed {
    name: String,
    countdown: AtomicU64,
}

fn armed() -> Option<&'static Armed> {
    static ARMED: OnceLock<Option<Armed>> = OnceLock::new();
    ARMED
        .get_or_init(|| {
            let spec = std::env::var("PIXPRESS_FAILPOINT").ok()?;
            let (name, n) = spec.rsplit_once(':')?;
            Some(Armed {
                name: name.to_string(),
                countdown: AtomicU64::new(n.parse().ok()?),
            })
        })
        .as_ref()
}

/// Marks the point `name`; kills the process (or panics, for `panic.*`)
/// when it is the armed one and its count is reached.
pub(crate) fn hit(name: &str) {
    if let Some(armed) = armed() {
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
