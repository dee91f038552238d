//! A cluster from a Kubernetes StatefulSet: the pod's ordinal in its
//! hostname, the replica count and the headless service's DNS names.

use super::env::bad;
use crate::ClusterError;

pub(super) fn statefulset(
    host: &str,
    processes: usize,
    service: Option<String>,
    base_port: u16,
) -> Result<Option<(usize, Vec<String>)>, ClusterError> {
    let host = host.split('.').next().unwrap_or(host);
    let Some((stem, ordinal)) = host.rsplit_once('-') else {
        return Ok(None);
    };
    let Ok(process) = ordinal.parse::<usize>() else {
        return Ok(None);
    };
    if process >= processes {
        return Err(bad(
            "HOSTNAME",
            host,
            &format!("pod ordinal {process} is not below DAGWOOD_PROCESSES={processes}"),
        ));
    }
    let addresses = (0..processes)
        .map(|i| match &service {
            Some(s) => format!("{stem}-{i}.{s}:{base_port}"),
            None => format!("{stem}-{i}:{base_port}"),
        })
        .collect();
    Ok(Some((process, addresses)))
}
