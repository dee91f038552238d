//! A live dashboard in the browser, like Dask's on `:8787`: while it lives,
//! every computation in the process (dynamic graphs on any scheduler,
//! static graphs, the futures client, the cluster backend) is shown as it
//! runs.
//!
//! The page has the task stream (a row per worker, a bar per task coloured
//! by task name), progress per task group (done, running, waiting,
//! failed), memory and CPU per process with each worker's share of time in
//! tasks, the plan's layers (the picture `visualize` draws for large
//! graphs) coloured by how far each has got, and the failing task's key
//! and error. The server pushes an update per interval (100 ms) as
//! server-sent events; bars are aggregated per interval, so a run of a
//! million tiny tasks sends a few thousand bars, not a million messages.
//! The page is a few kilobytes of plain JavaScript served by the program:
//! no CDN, works offline.
//!
//! Workers push each task's record into a slot of their own; the rest
//! (grouping, bars, JSON) happens on the dashboard's own thread. With no
//! dashboard alive the cost per task is the one branch every callback
//! costs.

mod bars;
mod collect;
mod core;
mod json;
mod remote;
mod server;
mod state;

use std::net::{IpAddr, SocketAddr, TcpListener, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use remote::{Collector, DigestBar, DigestGroup, ProcessDigest};

use self::core::{live, register_live, Core};
use super::callback::{register_global, GlobalCallback};

/// The address [`Dashboard::from_env`] serves on when `DAGWOOD_DASHBOARD`
/// is `1` (Dask's port).
pub const DEFAULT_ADDRESS: &str = "127.0.0.1:8787";

/// Why a dashboard could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DashboardError {
    /// The address did not parse or resolve.
    #[error("dashboard address {address:?}: {message}")]
    Address {
        /// The address as given.
        address: String,
        /// What was wrong with it.
        message: String,
    },
    /// A non-loopback address without [`Dashboard::serve_on_network`].
    #[error(
        "dashboard address {address}: not a loopback address; the dashboard shows task names and \
         errors to anyone who can reach it, so serving beyond this machine must be asked for with \
         Dashboard::serve_on_network (or DAGWOOD_DASHBOARD_ALLOW_REMOTE=1)"
    )]
    NotLoopback {
        /// The address.
        address: SocketAddr,
    },
    /// Binding failed (the port is taken, or not allowed).
    #[error("dashboard: cannot listen on {address}: {source}")]
    Bind {
        /// The address.
        address: SocketAddr,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A bad value in an environment variable.
    #[error("{var}={value:?}: {message}")]
    Env {
        /// The variable.
        var: &'static str,
        /// Its value.
        value: String,
        /// What was wrong.
        message: String,
    },
}

/// A live dashboard: serves a page on a local address and shows every
/// computation of the process while it lives; dropping it stops the
/// server.
///
/// ```
/// use dagwood_runtime::diagnostics::Dashboard;
/// use dagwood_runtime::{delayed, sum};
///
/// // Port 0 picks a free port; Dask's is 8787.
/// let dashboard = Dashboard::serve("127.0.0.1:0")?;
/// println!("dashboard at {}", dashboard.url());
/// let total = sum((0..100).map(|i| delayed(i).map("square", |v: &i64| v * v)), 8)?;
/// assert_eq!(total.compute()?, 328_350);
/// let state = dashboard.snapshot_json();
/// assert!(state.contains(r#""square""#));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Dashboard {
    core: Arc<Core>,
    server: server::Server,
    addr: SocketAddr,
    _registered: GlobalCallback,
}

impl std::fmt::Debug for Dashboard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dashboard")
            .field("addr", &self.addr)
            .field("clients", &self.clients())
            .finish()
    }
}

impl Dashboard {
    /// Serves the dashboard on `address`, which must be a loopback address
    /// (`127.0.0.1:8787`, `localhost:8787`, `[::1]:8787`; port 0 picks a
    /// free port). Requests whose `Host` is not a loopback name are refused,
    /// which keeps web pages elsewhere from reading it by DNS rebinding.
    /// To look at it from another machine, tunnel (`ssh -L
    /// 8787:localhost:8787 host`) or use [`serve_on_network`](Self::serve_on_network).
    ///
    /// ```
    /// use dagwood_runtime::diagnostics::{Dashboard, DashboardError};
    /// let d = Dashboard::serve("localhost:0")?;
    /// assert!(d.url().starts_with("http://127.0.0.1:") || d.url().starts_with("http://[::1]:"));
    /// let e = Dashboard::serve("0.0.0.0:0").unwrap_err();
    /// assert!(matches!(e, DashboardError::NotLoopback { .. }));
    /// # Ok::<(), DashboardError>(())
    /// ```
    pub fn serve(
        address: impl ToSocketAddrs + std::fmt::Debug,
    ) -> Result<Dashboard, DashboardError> {
        Dashboard::start(address, false, DEFAULT_INTERVAL)
    }

    /// Serves the dashboard on any address, such as `0.0.0.0:8787` (every
    /// interface). Anyone who can reach that address sees the page: task
    /// names and keys, error messages (which may quote data), worker
    /// counts, memory and CPU. It has no login and no TLS, and it is
    /// read-only: it cannot start, stop or change anything.
    ///
    /// ```no_run
    /// let d = dagwood_runtime::diagnostics::Dashboard::serve_on_network("0.0.0.0:8787")?;
    /// # Ok::<(), dagwood_runtime::diagnostics::DashboardError>(())
    /// ```
    pub fn serve_on_network(
        address: impl ToSocketAddrs + std::fmt::Debug,
    ) -> Result<Dashboard, DashboardError> {
        Dashboard::start(address, true, DEFAULT_INTERVAL)
    }

    /// The dashboard `DAGWOOD_DASHBOARD` asks for, if any: unset, empty,
    /// `0`, `off` or `false` for none; `1`, `on` or `true` for
    /// [`DEFAULT_ADDRESS`]; a port (`8790`) for that port on 127.0.0.1;
    /// otherwise an address (`localhost:8790`). A non-loopback address
    /// also needs `DAGWOOD_DASHBOARD_ALLOW_REMOTE=1` (see
    /// [`serve_on_network`](Self::serve_on_network) for what that exposes).
    ///
    /// ```
    /// // Unset here: no dashboard.
    /// # std::env::remove_var("DAGWOOD_DASHBOARD");
    /// assert!(dagwood_runtime::diagnostics::Dashboard::from_env()?.is_none());
    /// # Ok::<(), dagwood_runtime::diagnostics::DashboardError>(())
    /// ```
    pub fn from_env() -> Result<Option<Dashboard>, DashboardError> {
        const VAR: &str = "DAGWOOD_DASHBOARD";
        const REMOTE: &str = "DAGWOOD_DASHBOARD_ALLOW_REMOTE";
        let value = std::env::var(VAR).unwrap_or_default();
        let v = value.trim();
        let address = match v.to_ascii_lowercase().as_str() {
            "" | "0" | "off" | "false" | "no" => return Ok(None),
            "1" | "on" | "true" | "yes" => DEFAULT_ADDRESS.to_string(),
            _ if v.parse::<u16>().is_ok() => format!("127.0.0.1:{v}"),
            _ => v.to_string(),
        };
        let remote = match std::env::var(REMOTE).unwrap_or_default().trim() {
            "" | "0" => false,
            "1" => true,
            other => {
                return Err(DashboardError::Env {
                    var: REMOTE,
                    value: other.to_string(),
                    message: "expected 1 or 0".into(),
                })
            }
        };
        match Dashboard::start(address.as_str(), remote, DEFAULT_INTERVAL) {
            Err(DashboardError::Address { message, .. }) => Err(DashboardError::Env {
                var: VAR,
                value,
                message: format!(
                    "{message} (expected 1, a port, or host:port such as {DEFAULT_ADDRESS})"
                ),
            }),
            other => other.map(Some),
        }
    }

    fn start(
        address: impl ToSocketAddrs + std::fmt::Debug,
        remote: bool,
        interval: Duration,
    ) -> Result<Dashboard, DashboardError> {
        let bad = |message: String| DashboardError::Address {
            address: format!("{address:?}").trim_matches('"').to_string(),
            message,
        };
        let addrs: Vec<SocketAddr> = address
            .to_socket_addrs()
            .map_err(|e| bad(e.to_string()))?
            .collect();
        // `localhost` may resolve to ::1 and 127.0.0.1: prefer IPv4, which
        // every browser reaches as "localhost" too.
        let addr = addrs
            .iter()
            .find(|a| a.is_ipv4())
            .or_else(|| addrs.first())
            .copied()
            .ok_or_else(|| bad("resolves to no address".into()))?;
        let loopback = is_loopback(addr.ip());
        if !loopback && !remote {
            return Err(DashboardError::NotLoopback { address: addr });
        }
        let listener = TcpListener::bind(addr).map_err(|source| DashboardError::Bind {
            address: addr,
            source,
        })?;
        let bound = listener.local_addr().unwrap_or(addr);
        let core = Arc::new(Core::new(true));
        let server = server::Server::start(core.clone(), listener, interval, loopback).map_err(
            |source| DashboardError::Bind {
                address: addr,
                source,
            },
        )?;
        register_live(&core);
        let registered = register_global(core.clone());
        Ok(Dashboard {
            addr: server.addr().unwrap_or(bound),
            core,
            server,
            _registered: registered,
        })
    }

    /// The page's address, such as `http://127.0.0.1:8787/` (an unspecified
    /// address such as `0.0.0.0` is shown as `127.0.0.1`, where it answers too).
    ///
    /// ```
    /// let d = dagwood_runtime::diagnostics::Dashboard::serve("127.0.0.1:0")?;
    /// assert_eq!(d.url(), format!("http://127.0.0.1:{}/", d.local_addr().port()));
    /// # Ok::<(), dagwood_runtime::diagnostics::DashboardError>(())
    /// ```
    pub fn url(&self) -> String {
        let ip = match self.addr.ip() {
            ip if ip.is_unspecified() => IpAddr::from([127, 0, 0, 1]),
            ip => ip,
        };
        format!("http://{}/", SocketAddr::new(ip, self.addr.port()))
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Pages connected to the event stream now.
    ///
    /// ```
    /// let d = dagwood_runtime::diagnostics::Dashboard::serve("127.0.0.1:0")?;
    /// assert_eq!(d.clients(), 0);
    /// # Ok::<(), dagwood_runtime::diagnostics::DashboardError>(())
    /// ```
    pub fn clients(&self) -> usize {
        self.server.clients()
    }

    /// Everything the page would get on connecting, as JSON (what
    /// `GET /state.json` answers): for scripts and tests.
    pub fn snapshot_json(&self) -> String {
        let state = self.core.drain();
        json::snapshot(&state)
    }

    /// Hands what another process of a cluster sent to every dashboard of
    /// this process. `run_start` is when the run the digest belongs to
    /// started here (the digest's times count from that run's start there).
    ///
    /// ```
    /// use std::time::Instant;
    /// use dagwood_runtime::diagnostics::{Dashboard, DigestBar, DigestGroup, ProcessDigest};
    /// let d = Dashboard::serve("127.0.0.1:0")?;
    /// let digest = ProcessDigest {
    ///     process: 1,
    ///     run: 1,
    ///     names: vec!["load".into()],
    ///     groups: vec![DigestGroup { name: 0, done: 5, failed: 0, running: 1 }],
    ///     bars: vec![DigestBar { worker: 2, start_ms: 0.0, end_ms: 4.0, name: 0, count: 5, failed: 0 }],
    ///     ..ProcessDigest::default()
    /// };
    /// Dashboard::ingest(&digest, Instant::now());
    /// assert!(d.snapshot_json().contains("[1,2]")); // process 1's worker 2 has a row
    /// # Ok::<(), dagwood_runtime::diagnostics::DashboardError>(())
    /// ```
    pub fn ingest(digest: &ProcessDigest, run_start: Instant) {
        for core in live() {
            core.state().ingest(digest, run_start);
        }
    }

    /// True while some dashboard of this process is serving (the cluster
    /// backend asks the other processes for their digests only then).
    ///
    /// ```
    /// use dagwood_runtime::diagnostics::Dashboard;
    /// let d = Dashboard::serve("127.0.0.1:0")?;
    /// assert!(Dashboard::is_serving());
    /// # Ok::<(), dagwood_runtime::diagnostics::DashboardError>(())
    /// ```
    pub fn is_serving() -> bool {
        !live().is_empty()
    }
}

/// How often the page is updated.
const DEFAULT_INTERVAL: Duration = Duration::from_millis(100);

fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}
