//! Helpers shared by the runtime's integration tests.

use std::time::Duration;

/// Runs `f` on its own thread; fails the test if it has not returned within
/// 60 s (a hang or deadlock), and passes a panic of `f` on.
pub fn bounded(what: &str, f: impl FnOnce() + Send + 'static) {
    let (tx, rx) = std::sync::mpsc::channel();
    let h = std::thread::spawn(move || {
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
        let _ = tx.send(());
        r
    });
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(()) => {
            if let Err(p) = h.join().unwrap() {
                std::panic::resume_unwind(p)
            }
        }
        Err(_) => panic!("hang: {what} did not return within 60 s"),
    }
}
