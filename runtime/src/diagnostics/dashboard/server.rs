//! The HTTP side (tiny_http): the page, its script and style, a JSON
//! snapshot, and the event stream (server-sent events) that pushes an
//! update per interval to every connected page.

use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use super::core::Core;
use super::json;

const PAGE: &str = include_str!("page/index.html");
const SCRIPT: &str = include_str!("page/dashboard.js");
const STYLE: &str = include_str!("page/dashboard.css");

/// Pages connected at once; more get 503 (each holds a thread).
const MAX_CLIENTS: usize = 16;
/// Updates queued for a page before it counts as stuck and is dropped (it
/// reconnects and gets a fresh snapshot).
const QUEUE: usize = 64;
/// A comment line this often keeps proxies and tunnels from closing an
/// idle stream.
const KEEPALIVE: Duration = Duration::from_secs(15);

type Clients = Arc<Mutex<Vec<SyncSender<Arc<str>>>>>;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    }
}

pub(super) struct Server {
    http: Arc<tiny_http::Server>,
    clients: Clients,
    stop: Arc<(Mutex<bool>, Condvar)>,
    closing: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl Server {
    /// Serves `core` on `listener`, pushing an update every `interval`.
    /// `loopback` makes the server refuse requests whose Host header is not
    /// a loopback name, so that a web page elsewhere cannot reach it by
    /// rebinding its own name to 127.0.0.1.
    pub(super) fn start(
        core: Arc<Core>,
        listener: TcpListener,
        interval: Duration,
        loopback: bool,
    ) -> std::io::Result<Server> {
        let http = tiny_http::Server::from_listener(listener, None)
            .map(Arc::new)
            .map_err(std::io::Error::other)?;
        let clients: Clients = Arc::default();
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let closing = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();
        {
            let (core, clients, stop) = (core.clone(), clients.clone(), stop.clone());
            threads.push(
                std::thread::Builder::new()
                    .name("dagwood-dashboard-tick".into())
                    .spawn(move || {
                        let (flag, cv) = &*stop;
                        let mut stopped = lock(flag);
                        while !*stopped {
                            stopped = match cv.wait_timeout(stopped, interval) {
                                Ok((g, _)) => g,
                                Err(poisoned) => poisoned.into_inner().0,
                            };
                            tick(&core, &clients, None);
                        }
                    })?,
            );
        }
        {
            let (http, clients, closing) = (http.clone(), clients.clone(), closing.clone());
            threads.push(
                std::thread::Builder::new()
                    .name("dagwood-dashboard-http".into())
                    .spawn(move || {
                        for request in http.incoming_requests() {
                            if closing.load(Ordering::Acquire) {
                                break;
                            }
                            handle(request, &core, &clients, loopback);
                        }
                    })?,
            );
        }
        Ok(Server {
            http,
            clients,
            stop,
            closing,
            threads,
        })
    }

    pub(super) fn clients(&self) -> usize {
        lock(&self.clients).len()
    }

    pub(super) fn addr(&self) -> Option<SocketAddr> {
        self.http.server_addr().to_ip()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        {
            let (flag, cv) = &*self.stop;
            *lock(flag) = true;
            cv.notify_all();
        }
        self.closing.store(true, Ordering::Release);
        self.http.unblock();
        // The streams end when their senders go.
        lock(&self.clients).clear();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// Moves the workers' records into the state and sends the update to the
/// pages; with `new`, then registers a page and sends it the snapshot
/// (after the update, so that it sees nothing twice).
fn tick(core: &Core, clients: &Clients, new: Option<SyncSender<Arc<str>>>) {
    let mut clients = lock(clients);
    let mut state = core.drain();
    state.sample();
    if clients.is_empty() {
        json::discard(&mut state);
    } else {
        let update: Arc<str> = json::update(&mut state).into();
        clients.retain(|c| match c.try_send(update.clone()) {
            Ok(()) => true,
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => false,
        });
    }
    if let Some(new) = new {
        let snapshot: Arc<str> = json::snapshot(&state).into();
        if new.try_send(snapshot).is_ok() {
            clients.push(new);
        }
    }
}

fn respond(request: tiny_http::Request, status: u16, kind: &str, body: &str) {
    let mut response = tiny_http::Response::from_string(body).with_status_code(status);
    for h in [
        format!("Content-Type: {kind}"),
        "Cache-Control: no-store".into(),
    ] {
        // Constants of this file: they parse.
        if let Ok(h) = h.parse::<tiny_http::Header>() {
            response.add_header(h);
        }
    }
    // The page went away: nothing to do.
    let _ = request.respond(response);
}

/// True when the request's Host names this machine's loopback (any port:
/// an SSH tunnel may forward another port to this one).
fn host_is_loopback(request: &tiny_http::Request) -> bool {
    let Some(host) = request
        .headers()
        .iter()
        .find(|h| h.field.equiv("Host"))
        .map(|h| h.value.as_str().to_ascii_lowercase())
    else {
        // HTTP/1.0 without Host: no browser sends that.
        return true;
    };
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        host.split(':').next().unwrap_or("")
    };
    name == "localhost"
        || name.ends_with(".localhost")
        || name == "::1"
        || name
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn handle(request: tiny_http::Request, core: &Arc<Core>, clients: &Clients, loopback: bool) {
    if loopback && !host_is_loopback(&request) {
        return respond(
            request,
            403,
            "text/plain; charset=utf-8",
            "this dashboard answers only to localhost names (see Dashboard::serve_on_network)\n",
        );
    }
    if !matches!(
        request.method(),
        tiny_http::Method::Get | tiny_http::Method::Head
    ) {
        return respond(request, 405, "text/plain; charset=utf-8", "only GET\n");
    }
    let path = request.url().split('?').next().unwrap_or("/").to_string();
    match path.as_str() {
        "/" | "/index.html" | "/status" => respond(request, 200, "text/html; charset=utf-8", PAGE),
        "/dashboard.js" => respond(request, 200, "text/javascript; charset=utf-8", SCRIPT),
        "/dashboard.css" => respond(request, 200, "text/css; charset=utf-8", STYLE),
        "/state.json" => {
            let body = json::snapshot(&core.state());
            respond(request, 200, "application/json", &body)
        }
        "/events" => {
            if lock(clients).len() >= MAX_CLIENTS {
                return respond(
                    request,
                    503,
                    "text/plain; charset=utf-8",
                    "too many pages open\n",
                );
            }
            let (tx, rx) = sync_channel(QUEUE);
            tick(core, clients, Some(tx));
            let spawned = std::thread::Builder::new()
                .name("dagwood-dashboard-stream".into())
                .spawn(move || stream(request.into_writer(), rx));
            if let Err(e) = spawned {
                tracing::warn!("dashboard: cannot start a stream thread: {e}");
            }
        }
        _ => respond(request, 404, "text/plain; charset=utf-8", "not found\n"),
    }
}

/// Writes the event stream until the page goes or the dashboard stops.
fn stream(mut out: Box<dyn Write + Send>, rx: Receiver<Arc<str>>) {
    let head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n\
                X-Accel-Buffering: no\r\nConnection: close\r\n\r\nretry: 1000\n\n";
    if out
        .write_all(head.as_bytes())
        .and_then(|()| out.flush())
        .is_err()
    {
        return;
    }
    loop {
        let sent = match rx.recv_timeout(KEEPALIVE) {
            Ok(msg) => out
                .write_all(b"data: ")
                .and_then(|()| out.write_all(msg.as_bytes()))
                .and_then(|()| out.write_all(b"\n\n")),
            Err(RecvTimeoutError::Timeout) => out.write_all(b": keepalive\n\n"),
            Err(RecvTimeoutError::Disconnected) => return,
        };
        if sent.and_then(|()| out.flush()).is_err() {
            return;
        }
    }
}
