//! Start-up: every process connects to every other within a bounded time,
//! and all agree on the graph before any task runs.
//!
//! timely-dataflow's own start-up retries an unreachable peer every second
//! without end. dagwood therefore makes the connections itself — process `i`
//! listens on its address, connects to every lower process and accepts every
//! higher one, as timely does — with a deadline, and with a handshake that
//! carries the process index and count, the worker threads and the graph
//! fingerprint. The connected sockets are then handed to timely
//! (`initialize_networking_from_sockets`). A second connection to each peer
//! carries heartbeats (see [`heartbeat`](crate::heartbeat)).

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::thread::sleep;
use std::time::{Duration, Instant};

use crate::{Cluster, ClusterError};

const MAGIC: [u8; 8] = *b"DAGWOOD\x01";
const HELLO_LEN: usize = 40;

/// What each process tells each peer at start.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Hello {
    pub(crate) process: u32,
    pub(crate) processes: u32,
    pub(crate) threads: u32,
    pub(crate) fingerprint: u64,
    pub(crate) tasks: u64,
    /// The heartbeat connection rather than the data connection.
    pub(crate) beat: bool,
    /// This process shows a dashboard (process 0): the others send it
    /// their task digests.
    pub(crate) dashboard: bool,
}

impl Hello {
    fn to_bytes(self) -> [u8; HELLO_LEN] {
        let mut b = [0u8; HELLO_LEN];
        b[..8].copy_from_slice(&MAGIC);
        b[8..12].copy_from_slice(&self.process.to_le_bytes());
        b[12..16].copy_from_slice(&self.processes.to_le_bytes());
        b[16..20].copy_from_slice(&self.threads.to_le_bytes());
        b[20] = u8::from(self.beat);
        b[21] = u8::from(self.dashboard);
        b[24..32].copy_from_slice(&self.fingerprint.to_le_bytes());
        b[32..40].copy_from_slice(&self.tasks.to_le_bytes());
        b
    }

    fn from_bytes(b: &[u8; HELLO_LEN]) -> Option<Hello> {
        if b[..8] != MAGIC {
            return None;
        }
        let u32_at = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        let u64_at = |i: usize| {
            let mut x = [0u8; 8];
            x.copy_from_slice(&b[i..i + 8]);
            u64::from_le_bytes(x)
        };
        Some(Hello {
            process: u32_at(8),
            processes: u32_at(12),
            threads: u32_at(16),
            fingerprint: u64_at(24),
            tasks: u64_at(32),
            beat: b[20] == 1,
            dashboard: b[21] == 1,
        })
    }
}

/// The connections of this process to all others, one per process (`None`
/// at this process's own index): data for timely, and heartbeats.
pub(crate) struct Connections {
    pub(crate) data: Vec<Option<TcpStream>>,
    pub(crate) beats: Vec<Option<TcpStream>>,
    /// Process 0 shows a dashboard (its handshake said so).
    pub(crate) watched: bool,
}

/// Connects this process to all others.
pub(crate) fn connect_all(cluster: &Cluster, ours: Hello) -> Result<Connections, ClusterError> {
    let me = cluster.process();
    let n = cluster.processes();
    let addrs = cluster.addresses();
    let start = Instant::now();
    let deadline = start + cluster.connect_timeout();
    let never_came = |peer: usize| ClusterError::PeerNeverCame {
        process: me,
        peer,
        address: addrs[peer].clone(),
        waited_secs: start.elapsed().as_secs_f64(),
    };
    let handshake = |peer: usize, message: String| ClusterError::Handshake {
        process: me,
        peer,
        address: addrs[peer].clone(),
        message,
    };

    let listener = TcpListener::bind(addrs[me].as_str()).map_err(|source| ClusterError::Bind {
        process: me,
        address: addrs[me].clone(),
        source,
    })?;
    listener
        .set_nonblocking(true)
        .map_err(|source| ClusterError::Bind {
            process: me,
            address: addrs[me].clone(),
            source,
        })?;

    let mut sockets: Vec<Option<TcpStream>> = (0..n).map(|_| None).collect();
    // A graph mismatch is reported after the handshakes with every peer are
    // done, so that each process learns of it at once instead of waiting out
    // its timeout for a process that already gave up.
    let mut mismatch: Option<ClusterError> = None;
    let mut check = |peer: usize, theirs: &Hello| -> Result<(), ClusterError> {
        if theirs.processes != ours.processes {
            return Err(handshake(
                peer,
                format!(
                    "it counts {} processes, this process {}",
                    theirs.processes, ours.processes
                ),
            ));
        }
        if theirs.threads != ours.threads {
            return Err(handshake(
                peer,
                format!(
                    "it runs {} worker threads, this process {} (set DAGWOOD_THREADS alike)",
                    theirs.threads, ours.threads
                ),
            ));
        }
        if (theirs.fingerprint, theirs.tasks) != (ours.fingerprint, ours.tasks)
            && mismatch.is_none()
        {
            mismatch = Some(ClusterError::FingerprintMismatch {
                process: me,
                ours: ours.fingerprint,
                our_tasks: ours.tasks,
                peer,
                theirs: theirs.fingerprint,
                their_tasks: theirs.tasks,
            });
        }
        Ok(())
    };

    let mut beats: Vec<Option<TcpStream>> = (0..n).map(|_| None).collect();
    let mut watched = me == 0 && ours.dashboard;
    // Lower processes listen for us: a data and a heartbeat connection each.
    for (peer, addr) in addrs.iter().enumerate().take(me) {
        for beat in [false, true] {
            let mut stream = connect_until(addr, deadline).ok_or_else(|| never_came(peer))?;
            let io = |e: std::io::Error| handshake(peer, e.to_string());
            stream.set_nodelay(true).map_err(io)?;
            set_timeouts(&stream, deadline).map_err(io)?;
            stream
                .write_all(&Hello { beat, ..ours }.to_bytes())
                .map_err(io)?;
            let theirs = read_hello(&mut stream)
                .map_err(|e| handshake(peer, format!("no handshake answer: {e}")))?
                .ok_or_else(|| {
                    handshake(peer, "it is not a dagwood process of this version".into())
                })?;
            if theirs.process as usize != peer {
                return Err(handshake(
                    peer,
                    format!("the address belongs to process {}", theirs.process),
                ));
            }
            if peer == 0 {
                watched = theirs.dashboard;
            }
            if beat {
                beats[peer] = Some(stream);
            } else {
                check(peer, &theirs)?;
                sockets[peer] = Some(stream);
            }
        }
    }

    // Higher processes connect to us.
    while let Some(missing) = (me + 1..n).find(|&p| sockets[p].is_none() || beats[p].is_none()) {
        match listener.accept() {
            Ok((mut stream, _)) => {
                let setup = stream
                    .set_nonblocking(false)
                    .and_then(|()| stream.set_nodelay(true))
                    .and_then(|()| set_timeouts(&stream, deadline));
                if setup.is_err() {
                    continue;
                }
                // A stray connection (a port scanner, a process of another run)
                // that sends no hello is dropped; dagwood peers always send one.
                let Ok(Some(theirs)) = read_hello(&mut stream) else {
                    continue;
                };
                let peer = theirs.process as usize;
                let taken = |p: usize| {
                    if theirs.beat {
                        beats[p].is_some()
                    } else {
                        sockets[p].is_some()
                    }
                };
                if peer <= me || peer >= n || taken(peer) {
                    return Err(handshake(
                        missing,
                        format!(
                            "a process calling itself process {peer} connected to process {me}"
                        ),
                    ));
                }
                stream
                    .write_all(
                        &Hello {
                            beat: theirs.beat,
                            ..ours
                        }
                        .to_bytes(),
                    )
                    .map_err(|e| handshake(peer, e.to_string()))?;
                if theirs.beat {
                    beats[peer] = Some(stream);
                } else {
                    check(peer, &theirs)?;
                    sockets[peer] = Some(stream);
                }
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::Interrupted => {
                if Instant::now() >= deadline {
                    return Err(never_came(missing));
                }
                sleep(Duration::from_millis(1));
            }
            Err(source) => {
                return Err(ClusterError::Bind {
                    process: me,
                    address: addrs[me].clone(),
                    source,
                })
            }
        }
    }
    if let Some(e) = mismatch {
        return Err(e);
    }
    for s in sockets.iter().flatten() {
        s.set_read_timeout(None)
            .and_then(|()| s.set_write_timeout(None))
            .and_then(|()| detect_silent_peers(s))
            .map_err(|e| ClusterError::Timely {
                process: me,
                message: format!("cannot configure a socket: {e}"),
            })?;
    }
    Ok(Connections {
        data: sockets,
        beats,
        watched,
    })
}

/// A peer that vanishes without closing its connections (a machine that
/// loses power, a network that drops) must not leave the others waiting
/// forever: TCP keepalive probes an idle connection after 10 s and gives up
/// after 5 unanswered probes 2 s apart, and unacknowledged data fails the
/// connection after 25 s. timely then reports a broken connection, which
/// dagwood turns into [`ClusterError::PeerLost`].
#[cfg(target_os = "linux")]
fn detect_silent_peers(stream: &TcpStream) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let fd = stream.as_raw_fd();
    let set = |level: libc::c_int, name: libc::c_int, value: libc::c_int| {
        // SAFETY: `fd` is an open socket owned by `stream` for this call's
        // duration; the option value is a c_int and its size is passed.
        let r = unsafe {
            libc::setsockopt(
                fd,
                level,
                name,
                (&value as *const libc::c_int).cast::<libc::c_void>(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        if r == 0 {
            Ok(())
        } else {
            Err(std::io::Error::last_os_error())
        }
    };
    set(libc::SOL_SOCKET, libc::SO_KEEPALIVE, 1)?;
    set(libc::IPPROTO_TCP, libc::TCP_KEEPIDLE, 10)?;
    set(libc::IPPROTO_TCP, libc::TCP_KEEPINTVL, 2)?;
    set(libc::IPPROTO_TCP, libc::TCP_KEEPCNT, 5)?;
    set(libc::IPPROTO_TCP, libc::TCP_USER_TIMEOUT, 25_000)
}

#[cfg(not(target_os = "linux"))]
fn detect_silent_peers(_stream: &TcpStream) -> std::io::Result<()> {
    Ok(())
}

fn set_timeouts(stream: &TcpStream, deadline: Instant) -> std::io::Result<()> {
    let left = deadline
        .saturating_duration_since(Instant::now())
        .max(Duration::from_millis(500));
    stream.set_read_timeout(Some(left))?;
    stream.set_write_timeout(Some(left))
}

fn read_hello(stream: &mut TcpStream) -> std::io::Result<Option<Hello>> {
    let mut buf = [0u8; HELLO_LEN];
    stream.read_exact(&mut buf)?;
    Ok(Hello::from_bytes(&buf))
}

/// Connects to `addr`, retrying until `deadline` (the peer may not listen yet).
fn connect_until(addr: &str, deadline: Instant) -> Option<TcpStream> {
    // Peers usually come within milliseconds of each other: retry soon, then
    // back off.
    let mut pause = Duration::from_millis(1);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return None;
        }
        // Resolve on every attempt: a peer's name may appear in DNS late
        // (Kubernetes pods).
        if let Ok(resolved) = addr.to_socket_addrs() {
            for a in resolved {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return None;
                }
                if let Ok(s) = TcpStream::connect_timeout(&a, left.min(Duration::from_secs(2))) {
                    return Some(s);
                }
            }
        }
        sleep(pause.min(left));
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hello_round_trip() {
        let h = Hello {
            process: 2,
            processes: 3,
            threads: 4,
            fingerprint: 0xdead_beef_0123_4567,
            tasks: 99,
            beat: false,
            dashboard: true,
        };
        assert_eq!(Hello::from_bytes(&h.to_bytes()), Some(h));
        let b = Hello { beat: true, ..h };
        assert_eq!(Hello::from_bytes(&b.to_bytes()), Some(b));
        let mut bad = h.to_bytes();
        bad[0] = b'X';
        assert_eq!(Hello::from_bytes(&bad), None);
    }
}
