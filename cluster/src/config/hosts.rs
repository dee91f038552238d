//! Hosts files: one `host:port` per process, in process order.

use std::path::{Path, PathBuf};

use crate::ClusterError;

/// Reads a host file: one `host:port` per line in process order; `#` starts a
/// comment; blank lines are skipped. Errors name the file and line.
///
/// ```
/// let path = std::env::temp_dir().join("dagwood-doc-hosts.txt");
/// std::fs::write(&path, "# two machines\nnode1:2101\n\nnode2:2101  # second\n").unwrap();
/// assert_eq!(dagwood_cluster::read_hosts_file(&path).unwrap(), ["node1:2101", "node2:2101"]);
/// ```
pub fn read_hosts_file(path: &Path) -> Result<Vec<String>, ClusterError> {
    let text = std::fs::read_to_string(path).map_err(|source| ClusterError::HostFileIo {
        path: path.to_path_buf(),
        source,
    })?;
    parse_hosts(&text, path)
}

pub(super) fn parse_hosts(text: &str, path: &Path) -> Result<Vec<String>, ClusterError> {
    let err = |line: usize, message: String| ClusterError::HostFile {
        path: PathBuf::from(path),
        line,
        message,
    };
    let mut hosts = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        if line.split_whitespace().count() > 1 {
            return Err(err(i + 1, format!("{line:?}: one host:port per line")));
        }
        let Some((host, port)) = line.rsplit_once(':') else {
            return Err(err(i + 1, format!("{line:?} is not host:port")));
        };
        if host.is_empty() {
            return Err(err(i + 1, format!("{line:?} has no host name")));
        }
        match port.parse::<u16>() {
            Ok(p) if p > 0 => {}
            _ => {
                return Err(err(
                    i + 1,
                    format!("{line:?}: {port:?} is not a port number"),
                ))
            }
        }
        if let Some(first) = hosts.iter().position(|h: &String| h == line) {
            return Err(err(
                i + 1,
                format!("{line:?} already given for process {first}"),
            ));
        }
        hosts.push(line.to_string());
    }
    if hosts.is_empty() {
        return Err(err(0, "no addresses".into()));
    }
    Ok(hosts)
}
