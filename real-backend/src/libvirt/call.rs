//! Deadlines on blocking libvirt calls. libvirt has no per-call timeout: a call to a host whose
//! network died waits for TCP (minutes). Each call runs on its own thread; when the deadline
//! passes the caller gets [`LabError::Timeout`] and the thread is left to finish (or not) on its
//! own, holding only its own clones of the connection.

use migralab_sim_core::LabError;
use std::sync::mpsc;
use std::time::Duration;

/// Deadline for quick questions (lookups, capabilities, job statistics).
pub const QUICK: Duration = Duration::from_secs(10);
/// Deadline for opening a connection (ssh login included).
pub const CONNECT: Duration = Duration::from_secs(20);

/// Run `f` on a worker thread and wait at most `timeout` for its answer.
pub fn with_deadline<T, F>(what: &str, timeout: Duration, f: F) -> Result<T, LabError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, LabError> + Send + 'static,
{
    let (tx, rx) = mpsc::sync_channel(1);
    std::thread::Builder::new()
        .name(format!("libvirt: {what}"))
        .spawn(move || {
            // The receiver may be gone after a timeout; the answer is then of no use to anyone.
            let _ = tx.send(f());
        })
        .map_err(|e| LabError::Internal(format!("cannot start a thread for `{what}`: {e}")))?;
    match rx.recv_timeout(timeout) {
        Ok(answer) => answer,
        Err(mpsc::RecvTimeoutError::Timeout) => Err(LabError::Timeout {
            what: what.to_string(),
            seconds: timeout.as_secs().max(1),
        }),
        Err(mpsc::RecvTimeoutError::Disconnected) => Err(LabError::Internal(format!(
            "the libvirt call `{what}` ended without an answer"
        ))),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn an_answer_in_time_is_passed_through() {
        assert_eq!(with_deadline("add", QUICK, || Ok(2 + 2)).unwrap(), 4);
        let e = with_deadline::<(), _>("fail", QUICK, || Err(LabError::Aborted)).unwrap_err();
        assert_eq!(e, LabError::Aborted);
    }

    #[test]
    fn a_call_that_hangs_times_out_naming_the_call() {
        let e = with_deadline(
            "connect to qemu+ssh://h/system",
            Duration::from_millis(50),
            || {
                std::thread::sleep(Duration::from_secs(2));
                Ok(())
            },
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "no answer from libvirt within 1 s: connect to qemu+ssh://h/system"
        );
    }
}
