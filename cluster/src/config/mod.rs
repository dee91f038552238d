//! Who is in the cluster and where: process count, this process's index,
//! every process's address, worker threads, and the start-up timeout.
//!
//! A [`Cluster`] is built by hand or from the environment
//! ([`Cluster::from_env`]), which reads dagwood's own variables
//! (`env.rs` parses their values), a hosts file (`hosts.rs`), Slurm's
//! variables (`slurm.rs`) or a Kubernetes StatefulSet's (`statefulset.rs`).

mod env;
mod hosts;
mod slurm;
mod statefulset;

use std::path::Path;
use std::time::Duration;

use crate::ClusterError;
use env::{bad, parse_count, parse_index, parse_seconds};
pub use hosts::read_hosts_file;
pub use slurm::expand_nodelist;
use slurm::slurm;
use statefulset::statefulset;

/// The first port of the default addresses (`127.0.0.1:2101`, `:2102`, ...),
/// as in timely-dataflow.
pub const DEFAULT_BASE_PORT: u16 = 2101;

/// How long a process waits for its peers at start when nothing else is set.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a peer may stay silent on its heartbeat connection before the
/// others give up on it, unless set otherwise.
pub const DEFAULT_HEARTBEAT_TIMEOUT: Duration = Duration::from_secs(10);

/// A cluster: the processes that run one program together, and which one
/// this is.
///
/// Every process runs the same binary and builds the same graph; each runs
/// its share of the tasks and process 0 gathers the outputs (see
/// [`Cluster::compute`]).
///
/// Made by [`Cluster::from_env`] (what `dagwood-launch`, Slurm or a
/// Kubernetes StatefulSet set up), or by hand with [`Cluster::local`] and
/// the `with_*` methods.
///
/// ```
/// use std::time::Duration;
/// use dagwood_cluster::Cluster;
/// let c = Cluster::local(3, 1).with_base_port(9000).with_threads(2)
///     .with_connect_timeout(Duration::from_secs(5));
/// assert_eq!(c.processes(), 3);
/// assert_eq!(c.process(), 1);
/// assert_eq!(c.addresses()[2], "127.0.0.1:9002");
/// assert_eq!(c.workers(), 6);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Cluster {
    process: usize,
    threads: usize,
    addresses: Vec<String>,
    connect_timeout: Duration,
    heartbeat_timeout: Duration,
    regroup: bool,
}

fn local_addresses(n: usize, base_port: u16) -> Vec<String> {
    (0..n)
        .map(|i| format!("127.0.0.1:{}", usize::from(base_port) + i))
        .collect()
}

impl Cluster {
    /// One process with one worker: runs everything here (no network).
    ///
    /// ```
    /// let c = dagwood_cluster::Cluster::single();
    /// assert_eq!((c.processes(), c.process()), (1, 0));
    /// ```
    pub fn single() -> Cluster {
        Cluster::local(1, 0)
    }

    /// Process `process` of `processes` on this machine, at
    /// `127.0.0.1:2101`, `:2102`, ... (see [`with_base_port`](Self::with_base_port)).
    ///
    /// # Panics
    /// If `process >= processes` (a programming error; [`Cluster::from_env`]
    /// checks user input and returns an error instead).
    pub fn local(processes: usize, process: usize) -> Cluster {
        assert!(
            process < processes,
            "process index {process} out of range for {processes} processes"
        );
        Cluster {
            process,
            threads: 1,
            addresses: local_addresses(processes, DEFAULT_BASE_PORT),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            heartbeat_timeout: DEFAULT_HEARTBEAT_TIMEOUT,
            regroup: true,
        }
    }

    /// Local addresses from `port` up (`127.0.0.1:port`, `:port+1`, ...).
    pub fn with_base_port(mut self, port: u16) -> Cluster {
        self.addresses = local_addresses(self.addresses.len(), port);
        self
    }

    /// The addresses (`host:port`) of all processes, in process order.
    ///
    /// ```
    /// use dagwood_cluster::Cluster;
    /// let c = Cluster::local(2, 0).with_addresses(vec!["a:1".into(), "b:1".into()]).unwrap();
    /// assert_eq!(c.addresses(), ["a:1", "b:1"]);
    /// assert!(Cluster::local(2, 0).with_addresses(vec!["a:1".into()]).is_err());
    /// ```
    pub fn with_addresses(mut self, addresses: Vec<String>) -> Result<Cluster, ClusterError> {
        if addresses.len() != self.addresses.len() {
            return Err(ClusterError::Config {
                name: "addresses".into(),
                value: addresses.join(","),
                message: format!(
                    "{} addresses for {} processes",
                    addresses.len(),
                    self.addresses.len()
                ),
            });
        }
        self.addresses = addresses;
        Ok(self)
    }

    /// Worker threads per process (at least 1).
    pub fn with_threads(mut self, threads: usize) -> Cluster {
        self.threads = threads.max(1);
        self
    }

    /// Whether reduction trees whose leaves span processes are regrouped so
    /// that each process combines its own partials first and sends one
    /// (the default), or run as the graph built them (an inner combine may
    /// then receive several partials from one process).
    ///
    /// Regrouping keeps the order of the partials and changes only how they
    /// are associated, so a floating-point sum may differ from the
    /// single-process result in its last bits, as it does between two
    /// chunkings of one array. Turn it off to get bit-for-bit the result of
    /// the local schedulers whatever the number of processes. It never
    /// applies to a tree that runs on one process.
    ///
    /// ```
    /// let c = dagwood_cluster::Cluster::single().with_regrouping(false);
    /// assert!(!c.regrouping());
    /// ```
    pub fn with_regrouping(mut self, on: bool) -> Cluster {
        self.regroup = on;
        self
    }

    /// Whether reduction trees are regrouped (see
    /// [`with_regrouping`](Self::with_regrouping)).
    pub fn regrouping(&self) -> bool {
        self.regroup
    }

    /// How long to wait at start for all peers to connect.
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Cluster {
        self.connect_timeout = timeout;
        self
    }

    /// Number of processes.
    pub fn processes(&self) -> usize {
        self.addresses.len()
    }

    /// This process's index, from 0.
    pub fn process(&self) -> usize {
        self.process
    }

    /// True on process 0, where [`compute`](Self::compute) returns the outputs.
    pub fn is_leader(&self) -> bool {
        self.process == 0
    }

    /// Worker threads per process.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// All workers of all processes.
    pub fn workers(&self) -> usize {
        self.threads * self.processes()
    }

    /// The addresses of all processes.
    pub fn addresses(&self) -> &[String] {
        &self.addresses
    }

    /// The start-up timeout.
    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }

    /// How long a peer process may stay silent before the others end the
    /// run with [`ClusterError::PeerLost`] (default 10 s). Every process
    /// sends a heartbeat each second from a thread of its own, so a long
    /// task does not count as silence; a process that is stopped, frozen or
    /// cut off does.
    ///
    /// ```
    /// use std::time::Duration;
    /// let c = dagwood_cluster::Cluster::single().with_heartbeat_timeout(Duration::from_secs(30));
    /// assert_eq!(c.heartbeat_timeout(), Duration::from_secs(30));
    /// ```
    pub fn with_heartbeat_timeout(mut self, timeout: Duration) -> Cluster {
        self.heartbeat_timeout = timeout.max(Duration::from_millis(100));
        self
    }

    /// The heartbeat timeout (see [`with_heartbeat_timeout`](Self::with_heartbeat_timeout)).
    pub fn heartbeat_timeout(&self) -> Duration {
        self.heartbeat_timeout
    }

    /// The cluster this process belongs to, from the environment.
    ///
    /// In order of precedence:
    ///
    /// 1. **dagwood's variables** (what `dagwood-launch` sets):
    ///    `DAGWOOD_PROCESSES` (count), `DAGWOOD_PROCESS_ID` (this process,
    ///    from 0), `DAGWOOD_HOSTS` (a file of `host:port` lines, one per
    ///    process in order; `#` starts a comment, blank lines are skipped;
    ///    without it processes are at `127.0.0.1:` `DAGWOOD_BASE_PORT`
    ///    (default 2101) and up).
    /// 2. **Slurm** (`srun`): `SLURM_PROCID`, `SLURM_NTASKS` and the node
    ///    list `SLURM_STEP_NODELIST` or `SLURM_JOB_NODELIST` (`node[01-03,07]`
    ///    form), with `SLURM_STEP_TASKS_PER_NODE`/`SLURM_TASKS_PER_NODE`
    ///    (`2(x3),1` form) when several tasks share a node; the tasks on one
    ///    node use ports `DAGWOOD_BASE_PORT`, `+1`, ...
    /// 3. **Kubernetes StatefulSet**: with `DAGWOOD_PROCESSES` set, running
    ///    in Kubernetes (`KUBERNETES_SERVICE_HOST` or `DAGWOOD_K8S_SERVICE`
    ///    set) and a host name ending in the pod ordinal (`dagwood-3`), process `i` is
    ///    `dagwood-i.$DAGWOOD_K8S_SERVICE:$DAGWOOD_BASE_PORT` (the headless
    ///    service; without it the bare pod name).
    /// 4. With none of these, a single process ([`Cluster::single`]);
    ///    `DAGWOOD_PROCESSES` above 1 without a way to tell this process's
    ///    index is an error.
    ///
    /// Always read: `DAGWOOD_THREADS` (worker threads per process, default 1),
    /// `DAGWOOD_CONNECT_TIMEOUT` (seconds to wait for peers at start,
    /// default 30), `DAGWOOD_HEARTBEAT_TIMEOUT` (seconds a peer may stay
    /// silent, default 10) and `DAGWOOD_REGROUP` (`0` to run reduction trees as
    /// built, see [`with_regrouping`](Self::with_regrouping); default on).
    ///
    /// ```no_run
    /// let cluster = dagwood_cluster::Cluster::from_env()?;
    /// println!("process {} of {}", cluster.process(), cluster.processes());
    /// # Ok::<(), dagwood_cluster::ClusterError>(())
    /// ```
    pub fn from_env() -> Result<Cluster, ClusterError> {
        let host = std::env::var("HOSTNAME").ok().or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|s| s.trim().to_string())
        });
        Cluster::from_lookup(|name| match name {
            "HOSTNAME" => host.clone(),
            _ => std::env::var(name).ok(),
        })
    }

    /// [`from_env`](Self::from_env) with variables from `var` instead of the
    /// process environment (for tests and embedding). `HOSTNAME` is asked
    /// for the Kubernetes mapping.
    ///
    /// ```
    /// use dagwood_cluster::Cluster;
    /// let c = Cluster::from_lookup(|v| match v {
    ///     "SLURM_PROCID" => Some("3".into()),
    ///     "SLURM_NTASKS" => Some("4".into()),
    ///     "SLURM_JOB_NODELIST" => Some("node[01-02]".into()),
    ///     _ => None,
    /// }).unwrap();
    /// assert_eq!(c.process(), 3);
    /// assert_eq!(c.addresses(), ["node01:2101", "node01:2102", "node02:2101", "node02:2102"]);
    /// ```
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Result<Cluster, ClusterError> {
        let regroup = match var("DAGWOOD_REGROUP").map(|v| v.trim().to_ascii_lowercase()) {
            None => true,
            Some(v) => match v.as_str() {
                "" | "1" | "true" | "on" | "yes" => true,
                "0" | "false" | "off" | "no" => false,
                _ => {
                    return Err(bad(
                        "DAGWOOD_REGROUP",
                        &v,
                        "not a switch (1/0, true/false, on/off)",
                    ))
                }
            },
        };
        let heartbeat = match var("DAGWOOD_HEARTBEAT_TIMEOUT").filter(|v| !v.trim().is_empty()) {
            Some(v) => parse_seconds("DAGWOOD_HEARTBEAT_TIMEOUT", &v)?,
            None => DEFAULT_HEARTBEAT_TIMEOUT,
        };
        Ok(Cluster::place_from_lookup(var)?
            .with_regrouping(regroup)
            .with_heartbeat_timeout(heartbeat))
    }

    fn place_from_lookup(var: impl Fn(&str) -> Option<String>) -> Result<Cluster, ClusterError> {
        let get = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        let threads = match get("DAGWOOD_THREADS") {
            Some(v) => parse_count("DAGWOOD_THREADS", &v)?,
            None => 1,
        };
        let connect_timeout = match get("DAGWOOD_CONNECT_TIMEOUT") {
            Some(v) => parse_seconds("DAGWOOD_CONNECT_TIMEOUT", &v)?,
            None => DEFAULT_CONNECT_TIMEOUT,
        };
        let base_port = match get("DAGWOOD_BASE_PORT") {
            Some(v) => v
                .trim()
                .parse::<u16>()
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(|| bad("DAGWOOD_BASE_PORT", &v, "not a port number (1-65535)"))?,
            None => DEFAULT_BASE_PORT,
        };
        let processes = get("DAGWOOD_PROCESSES")
            .map(|v| parse_count("DAGWOOD_PROCESSES", &v))
            .transpose()?;

        let (process, addresses) = if let Some(id) = get("DAGWOOD_PROCESS_ID") {
            let process = parse_index("DAGWOOD_PROCESS_ID", &id)?;
            let addresses = match get("DAGWOOD_HOSTS") {
                Some(file) => {
                    let hosts = read_hosts_file(Path::new(&file))?;
                    if let Some(n) = processes {
                        if n != hosts.len() {
                            return Err(ClusterError::HostFile {
                                path: file.into(),
                                line: 0,
                                message: format!(
                                    "{} addresses but DAGWOOD_PROCESSES={n}",
                                    hosts.len()
                                ),
                            });
                        }
                    }
                    hosts
                }
                None => {
                    let n = processes.ok_or_else(|| {
                        bad(
                            "DAGWOOD_PROCESSES",
                            "",
                            "must be set with DAGWOOD_PROCESS_ID (or give DAGWOOD_HOSTS)",
                        )
                    })?;
                    local_addresses(n, base_port)
                }
            };
            (process, addresses)
        } else if let Some(id) = get("SLURM_PROCID") {
            slurm(&get, &id, base_port)?
        } else if let Some(n) = processes {
            // Several processes but no index: only a StatefulSet pod can
            // tell its index, from its name.
            let in_k8s =
                get("DAGWOOD_K8S_SERVICE").is_some() || get("KUBERNETES_SERVICE_HOST").is_some();
            let host = get("HOSTNAME").unwrap_or_default();
            let found = if in_k8s {
                statefulset(&host, n, get("DAGWOOD_K8S_SERVICE"), base_port)?
            } else {
                None
            };
            match found {
                Some(found) => found,
                None if n == 1 => (0, local_addresses(1, base_port)),
                None => {
                    return Err(bad(
                        "DAGWOOD_PROCESS_ID",
                        "",
                        &format!(
                            "not set, and DAGWOOD_PROCESSES={n} needs it (in a Kubernetes \
                             StatefulSet the pod name's ordinal gives it; this host is {host:?})"
                        ),
                    ))
                }
            }
        } else {
            return Ok(Cluster {
                connect_timeout,
                ..Cluster::single().with_threads(threads)
            });
        };
        if process >= addresses.len() {
            return Err(bad(
                "process index",
                &process.to_string(),
                &format!("out of range for {} processes", addresses.len()),
            ));
        }
        Ok(Cluster {
            process,
            threads,
            addresses,
            connect_timeout,
            heartbeat_timeout: DEFAULT_HEARTBEAT_TIMEOUT,
            regroup: true,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::hosts::parse_hosts;
    use super::slurm::expand_tasks_per_node;
    use super::*;
    use std::collections::HashMap;

    fn from(vars: &[(&str, &str)]) -> Result<Cluster, ClusterError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Cluster::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn nothing_set_is_single() {
        assert_eq!(from(&[]).unwrap(), Cluster::single());
        let c = from(&[("DAGWOOD_THREADS", "4")]).unwrap();
        assert_eq!((c.processes(), c.threads()), (1, 4));
    }

    #[test]
    fn dagwood_variables() {
        let c = from(&[
            ("DAGWOOD_PROCESSES", "3"),
            ("DAGWOOD_PROCESS_ID", "2"),
            ("DAGWOOD_BASE_PORT", "7000"),
            ("DAGWOOD_CONNECT_TIMEOUT", "2.5"),
        ])
        .unwrap();
        assert_eq!(c.process(), 2);
        assert_eq!(
            c.addresses(),
            ["127.0.0.1:7000", "127.0.0.1:7001", "127.0.0.1:7002"]
        );
        assert_eq!(c.connect_timeout(), Duration::from_millis(2500));
    }

    #[test]
    fn bad_dagwood_variables() {
        let e = from(&[("DAGWOOD_PROCESSES", "two"), ("DAGWOOD_PROCESS_ID", "0")]).unwrap_err();
        assert!(e.to_string().contains("DAGWOOD_PROCESSES=\"two\""), "{e}");
        let e = from(&[("DAGWOOD_PROCESSES", "2"), ("DAGWOOD_PROCESS_ID", "2")]).unwrap_err();
        assert!(e.to_string().contains("out of range"), "{e}");
        let e = from(&[("DAGWOOD_PROCESS_ID", "0")]).unwrap_err();
        assert!(e.to_string().contains("DAGWOOD_PROCESSES"), "{e}");
        let e = from(&[("DAGWOOD_CONNECT_TIMEOUT", "-1")]).unwrap_err();
        assert!(e.to_string().contains("DAGWOOD_CONNECT_TIMEOUT"), "{e}");
        let e = from(&[("DAGWOOD_THREADS", "0")]).unwrap_err();
        assert!(e.to_string().contains("DAGWOOD_THREADS"), "{e}");
        let e = from(&[("DAGWOOD_BASE_PORT", "70000")]).unwrap_err();
        assert!(e.to_string().contains("DAGWOOD_BASE_PORT"), "{e}");
    }

    #[test]
    fn hosts_file() {
        let p = Path::new("hosts.txt");
        let h = parse_hosts("# header\n\nalpha:2101\n  beta:2101 # b\n", p).unwrap();
        assert_eq!(h, ["alpha:2101", "beta:2101"]);
        let e = parse_hosts("alpha:2101\nbeta\n", p).unwrap_err();
        assert!(e.to_string().starts_with("host file hosts.txt:2:"), "{e}");
        let e = parse_hosts("alpha:99999\n", p).unwrap_err();
        assert!(e.to_string().contains("hosts.txt:1:"), "{e}");
        let e = parse_hosts("alpha:1 beta:2\n", p).unwrap_err();
        assert!(e.to_string().contains("one host:port per line"), "{e}");
        let e = parse_hosts("a:1\na:1\n", p).unwrap_err();
        assert!(e.to_string().contains("hosts.txt:2:") && e.to_string().contains("process 0"));
        let e = parse_hosts("# nothing\n", p).unwrap_err();
        assert!(e.to_string().contains("no addresses"), "{e}");
        let e = parse_hosts(":80\n", p).unwrap_err();
        assert!(e.to_string().contains("no host name"), "{e}");
    }

    #[test]
    fn hosts_file_from_env() {
        let dir = std::env::temp_dir().join(format!("dagwood-hosts-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("hosts.txt");
        std::fs::write(&file, "a:1\nb:2\n").unwrap();
        let f = file.to_str().unwrap();
        let c = from(&[("DAGWOOD_PROCESS_ID", "1"), ("DAGWOOD_HOSTS", f)]).unwrap();
        assert_eq!(
            (c.process(), c.addresses()),
            (1, &["a:1".to_string(), "b:2".into()][..])
        );
        let e = from(&[
            ("DAGWOOD_PROCESS_ID", "1"),
            ("DAGWOOD_PROCESSES", "3"),
            ("DAGWOOD_HOSTS", f),
        ])
        .unwrap_err();
        assert!(
            e.to_string()
                .contains("2 addresses but DAGWOOD_PROCESSES=3"),
            "{e}"
        );
        let missing = dir.join("missing.txt");
        let e = from(&[
            ("DAGWOOD_PROCESS_ID", "0"),
            ("DAGWOOD_HOSTS", missing.to_str().unwrap()),
        ])
        .unwrap_err();
        assert!(e.to_string().contains("missing.txt"), "{e}");
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn nodelists() {
        assert_eq!(expand_nodelist("a").unwrap(), ["a"]);
        assert_eq!(
            expand_nodelist("node[01-03,07]").unwrap(),
            ["node01", "node02", "node03", "node07"]
        );
        assert_eq!(
            expand_nodelist("x[8-10]y,z").unwrap(),
            ["x8y", "x9y", "x10y", "z"]
        );
        for bad in ["", "a,,b", "n[1-", "n]1[", "n[a-b]", "n[5-2]", "n[1-2]]"] {
            assert!(expand_nodelist(bad).is_err(), "{bad:?}");
        }
        assert_eq!(expand_tasks_per_node("2(x3),1").unwrap(), [2, 2, 2, 1]);
        assert!(expand_tasks_per_node("2(x3").is_err());
        assert!(expand_tasks_per_node("x").is_err());
    }

    #[test]
    fn slurm_mapping() {
        let c = from(&[
            ("SLURM_PROCID", "4"),
            ("SLURM_NTASKS", "5"),
            ("SLURM_STEP_NODELIST", "gpu[1-2],cpu9"),
            ("SLURM_STEP_TASKS_PER_NODE", "2(x2),1"),
            ("DAGWOOD_THREADS", "8"),
        ])
        .unwrap();
        assert_eq!(c.process(), 4);
        assert_eq!(c.threads(), 8);
        assert_eq!(
            c.addresses(),
            [
                "gpu1:2101",
                "gpu1:2102",
                "gpu2:2101",
                "gpu2:2102",
                "cpu9:2101"
            ]
        );
        // Even block distribution without a tasks-per-node variable.
        let c = from(&[
            ("SLURM_PROCID", "0"),
            ("SLURM_NTASKS", "3"),
            ("SLURM_JOB_NODELIST", "n[1-2]"),
        ])
        .unwrap();
        assert_eq!(c.addresses(), ["n1:2101", "n1:2102", "n2:2101"]);
        let e = from(&[
            ("SLURM_PROCID", "0"),
            ("SLURM_NTASKS", "3"),
            ("SLURM_JOB_NODELIST", "n[1-2]"),
            ("SLURM_TASKS_PER_NODE", "1(x2)"),
        ])
        .unwrap_err();
        assert!(e.to_string().contains("places 2 tasks"), "{e}");
        let e = from(&[("SLURM_PROCID", "0"), ("SLURM_NTASKS", "3")]).unwrap_err();
        assert!(e.to_string().contains("SLURM_JOB_NODELIST"), "{e}");
        // dagwood's own variables win over Slurm's.
        let c = from(&[
            ("SLURM_PROCID", "1"),
            ("SLURM_NTASKS", "2"),
            ("SLURM_JOB_NODELIST", "n[1-2]"),
            ("DAGWOOD_PROCESSES", "2"),
            ("DAGWOOD_PROCESS_ID", "0"),
        ])
        .unwrap();
        assert_eq!(c.process(), 0);
        assert_eq!(c.addresses()[1], "127.0.0.1:2102");
    }

    #[test]
    fn statefulset_mapping() {
        let c = from(&[
            ("DAGWOOD_PROCESSES", "3"),
            ("HOSTNAME", "dagwood-2"),
            ("DAGWOOD_K8S_SERVICE", "dw"),
        ])
        .unwrap();
        assert_eq!(c.process(), 2);
        assert_eq!(
            c.addresses(),
            [
                "dagwood-0.dw:2101",
                "dagwood-1.dw:2101",
                "dagwood-2.dw:2101"
            ]
        );
        let e = from(&[
            ("DAGWOOD_PROCESSES", "2"),
            ("HOSTNAME", "dagwood-5"),
            ("KUBERNETES_SERVICE_HOST", "10.0.0.1"),
        ])
        .unwrap_err();
        assert!(e.to_string().contains("pod ordinal 5"), "{e}");
        let c = from(&[
            ("DAGWOOD_PROCESSES", "2"),
            ("HOSTNAME", "web-1"),
            ("KUBERNETES_SERVICE_HOST", "10.0.0.1"),
        ])
        .unwrap();
        assert_eq!((c.process(), c.addresses()[0].as_str()), (1, "web-0:2101"));
        // Several processes and nothing to tell this one's index: an error,
        // not a silent single process.
        let e = from(&[("DAGWOOD_PROCESSES", "2"), ("HOSTNAME", "laptop-3")]).unwrap_err();
        assert!(e.to_string().contains("DAGWOOD_PROCESS_ID"), "{e}");
        let e = from(&[
            ("DAGWOOD_PROCESSES", "2"),
            ("HOSTNAME", "laptop"),
            ("DAGWOOD_K8S_SERVICE", "dw"),
        ])
        .unwrap_err();
        assert!(e.to_string().contains("\"laptop\""), "{e}");
        assert_eq!(from(&[("DAGWOOD_PROCESSES", "1")]).unwrap().processes(), 1);
    }
}
