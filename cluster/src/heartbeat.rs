//! Heartbeats: telling a stopped or hung peer process from a busy one.
//!
//! A peer that is frozen (stopped with SIGSTOP or a debugger, or hung in
//! the kernel) keeps its TCP connections open, and its kernel still
//! acknowledges data, so neither timely nor TCP's timeouts notice; the
//! others would wait for its values forever. So each process keeps a second
//! connection to every peer, on which a thread writes a byte every second
//! and another expects one within the heartbeat timeout
//! ([`Cluster::with_heartbeat_timeout`](crate::Cluster::with_heartbeat_timeout)).
//! These threads do not run tasks, so a long task does not silence its
//! process. When a run ends, each process writes a goodbye byte: the silence
//! after it is not a failure.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::dashboard::{Feed, DIGEST, MAX_FRAME};

const BEAT: u8 = 1;
const BYE: u8 = 0xff;
const EVERY: Duration = Duration::from_secs(1);
/// How long a closed heartbeat connection waits before it raises the alarm.
const CLOSED_GRACE: Duration = Duration::from_millis(500);

/// Raised (once) when a peer falls silent; the workers check it.
#[derive(Default)]
pub(crate) struct Alarm {
    raised: AtomicBool,
    what: Mutex<Option<(usize, String)>>,
}

impl Alarm {
    fn raise(&self, peer: usize, detail: String) {
        if let Ok(mut w) = self.what.lock() {
            w.get_or_insert((peer, detail));
        }
        self.raised.store(true, Ordering::Release);
    }

    /// The silent peer and why, once raised.
    pub(crate) fn raised(&self) -> Option<(usize, String)> {
        if !self.raised.load(Ordering::Acquire) {
            return None;
        }
        self.what.lock().ok().and_then(|w| w.clone())
    }
}

/// The heartbeat threads of one run; dropping it says goodbye to every
/// peer and stops beating.
pub(crate) struct Heartbeats {
    stop: Arc<AtomicBool>,
    writers: Vec<JoinHandle<()>>,
}

impl Heartbeats {
    /// Starts beating on, and listening to, every peer's heartbeat
    /// connection (`None` at this process's own index).
    pub(crate) fn start(
        beats: Vec<Option<TcpStream>>,
        timeout: Duration,
        alarm: Arc<Alarm>,
        feed: Feed,
    ) -> std::io::Result<Heartbeats> {
        let stop = Arc::new(AtomicBool::new(false));
        let mut writers = Vec::new();
        for (peer, stream) in beats.into_iter().enumerate() {
            let Some(stream) = stream else { continue };
            let mut out = stream.try_clone()?;
            let mut input = stream;
            input.set_read_timeout(Some(timeout))?;
            out.set_write_timeout(Some(timeout))?;
            let stop_w = stop.clone();
            let feed_w = feed.sends_to(peer).then(|| feed.clone());
            writers.push(
                std::thread::Builder::new()
                    .name(format!("dagwood:beat-{peer}"))
                    .spawn(move || beat(&mut out, &stop_w, feed_w.as_ref()))?,
            );
            let (stop_r, alarm, feed_r) = (stop.clone(), alarm.clone(), feed.clone());
            // Not joined: it ends at the peer's goodbye, its silence or its
            // connection's end, whichever comes first.
            std::thread::Builder::new()
                .name(format!("dagwood:listen-{peer}"))
                .spawn(move || listen(&mut input, peer, timeout, &stop_r, &alarm, &feed_r))?;
        }
        Ok(Heartbeats { stop, writers })
    }
}

impl Drop for Heartbeats {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        // Wake the writers at once: a run's end must not wait out a beat.
        for w in &self.writers {
            w.thread().unpark();
        }
        for w in self.writers.drain(..) {
            let _ = w.join();
        }
    }
}

fn beat(out: &mut TcpStream, stop: &AtomicBool, feed: Option<&Feed>) {
    let every = feed.map_or(EVERY, |f| f.every(EVERY));
    let mut last_beat: Option<Instant> = None;
    loop {
        if stop.load(Ordering::Acquire) {
            // The last digest holds the run's final counts.
            if let Some(frame) = feed.and_then(Feed::frame) {
                let _ = out.write_all(&frame);
            }
            let _ = out.write_all(&[BYE]);
            let _ = out.shutdown(Shutdown::Write);
            return;
        }
        if last_beat.is_none_or(|t| t.elapsed() >= EVERY) {
            if out.write_all(&[BEAT]).is_err() {
                // The peer is gone; its listener side reports it.
                return;
            }
            last_beat = Some(Instant::now());
        }
        if let Some(frame) = feed.and_then(Feed::frame) {
            if out.write_all(&frame).is_err() {
                return;
            }
        }
        // Until the next beat, or until unparked to stop (a spurious wake-up
        // only beats early).
        std::thread::park_timeout(every);
    }
}

fn listen(
    input: &mut TcpStream,
    peer: usize,
    timeout: Duration,
    stop: &AtomicBool,
    alarm: &Alarm,
    feed: &Feed,
) {
    let mut byte = [0u8; 1];
    loop {
        let (silent, closed) = match input.read(&mut byte) {
            Ok(1) if byte[0] == BYE => return,
            Ok(1) if byte[0] == DIGEST => match read_frame(input) {
                Ok(body) => {
                    feed.receive(&body);
                    continue;
                }
                Err(e) => (format!("its heartbeat connection failed: {e}"), true),
            },
            Ok(1) => continue,
            Ok(_) => (
                "its heartbeat connection closed without a goodbye (the process died)".to_string(),
                true,
            ),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => (
                format!(
                    "no heartbeat for {:.0} s: the process is stopped or hung, or the network is down",
                    timeout.as_secs_f64()
                ),
                false,
            ),
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => (format!("its heartbeat connection failed: {e}"), true),
        };
        if closed {
            // A closed connection is news timely's own connection brings
            // too, with more to say (and a peer that died should be seen to
            // have failed first): let it speak first.
            std::thread::sleep(CLOSED_GRACE);
        }
        if !stop.load(Ordering::Acquire) {
            alarm.raise(peer, silent);
        }
        return;
    }
}

/// A digest frame's length and body (its tag was read).
fn read_frame(input: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut len = [0u8; 4];
    input.read_exact(&mut len)?;
    let len = u32::from_le_bytes(len) as usize;
    if len > MAX_FRAME {
        return Err(std::io::Error::new(
            ErrorKind::InvalidData,
            format!("a digest of {len} bytes"),
        ));
    }
    let mut body = vec![0u8; len];
    input.read_exact(&mut body)?;
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::time::Instant;

    fn pair() -> (TcpStream, TcpStream) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let a = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (b, _) = l.accept().unwrap();
        (a, b)
    }

    #[test]
    fn a_silent_peer_raises_the_alarm_and_a_goodbye_does_not() {
        // Peer 1 beats, then says goodbye: no alarm.
        let (a, b) = pair();
        let alarm = Arc::new(Alarm::default());
        let ours = Heartbeats::start(
            vec![None, Some(a)],
            Duration::from_millis(1500),
            alarm.clone(),
            Feed::Off,
        )
        .unwrap();
        let theirs = Heartbeats::start(
            vec![Some(b), None],
            Duration::from_millis(1500),
            Arc::new(Alarm::default()),
            Feed::Off,
        )
        .unwrap();
        std::thread::sleep(Duration::from_millis(2500));
        assert_eq!(alarm.raised(), None);
        drop(theirs);
        std::thread::sleep(Duration::from_millis(2000));
        assert_eq!(alarm.raised(), None);
        drop(ours);

        // A peer that connects and then never beats (a frozen process).
        let (a, _frozen) = pair();
        let alarm = Arc::new(Alarm::default());
        let ours = Heartbeats::start(
            vec![Some(a)],
            Duration::from_millis(800),
            alarm.clone(),
            Feed::Off,
        )
        .unwrap();
        let start = Instant::now();
        while alarm.raised().is_none() && start.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(20));
        }
        let (peer, why) = alarm.raised().expect("the alarm");
        assert_eq!(peer, 0);
        assert!(why.contains("no heartbeat"), "{why}");
        drop(ours);
    }
}
