//! A cluster from Slurm's variables: the step's tasks, nodes and tasks per
//! node, and the node list syntax (`n[01-03,07]`).

use super::env::{bad, parse_count, parse_index};
use crate::ClusterError;

pub(super) fn slurm(
    get: &impl Fn(&str) -> Option<String>,
    id: &str,
    base_port: u16,
) -> Result<(usize, Vec<String>), ClusterError> {
    let process = parse_index("SLURM_PROCID", id)?;
    let tasks = match get("SLURM_NTASKS").or_else(|| get("SLURM_NPROCS")) {
        Some(v) => parse_count("SLURM_NTASKS", &v)?,
        None => {
            return Err(bad(
                "SLURM_NTASKS",
                "",
                "not set (needed with SLURM_PROCID)",
            ))
        }
    };
    let (list_var, list) = match get("SLURM_STEP_NODELIST") {
        Some(l) => ("SLURM_STEP_NODELIST", l),
        None => match get("SLURM_JOB_NODELIST").or_else(|| get("SLURM_NODELIST")) {
            Some(l) => ("SLURM_JOB_NODELIST", l),
            None => return Err(bad("SLURM_JOB_NODELIST", "", "not set")),
        },
    };
    let nodes = expand_nodelist(&list).map_err(|m| bad(list_var, &list, &m))?;
    let per_node = match get("SLURM_STEP_TASKS_PER_NODE").or_else(|| get("SLURM_TASKS_PER_NODE")) {
        Some(v) => {
            expand_tasks_per_node(&v).map_err(|m| bad("SLURM_STEP_TASKS_PER_NODE", &v, &m))?
        }
        // Slurm's default block distribution: as even as possible, the first
        // nodes taking one more.
        None => (0..nodes.len())
            .map(|k| tasks / nodes.len() + usize::from(k < tasks % nodes.len()))
            .collect(),
    };
    let mut addresses = Vec::with_capacity(tasks);
    for (node, &count) in nodes.iter().zip(&per_node) {
        for local in 0..count {
            let port = usize::from(base_port) + local;
            if port > usize::from(u16::MAX) {
                return Err(bad(
                    "DAGWOOD_BASE_PORT",
                    &base_port.to_string(),
                    "ports run past 65535",
                ));
            }
            addresses.push(format!("{node}:{port}"));
        }
    }
    if addresses.len() != tasks {
        return Err(bad(
            list_var,
            &list,
            &format!("places {} tasks but SLURM_NTASKS={tasks}", addresses.len()),
        ));
    }
    Ok((process, addresses))
}

/// Expands a Slurm node list such as `node[01-03,07],gpu5` into host names,
/// keeping zero padding.
///
/// ```
/// use dagwood_cluster::expand_nodelist;
/// assert_eq!(expand_nodelist("n[01-03,07],gpu5").unwrap(), ["n01", "n02", "n03", "n07", "gpu5"]);
/// assert_eq!(expand_nodelist("r[1-2]-c[1-2]").unwrap(), ["r1-c1", "r1-c2", "r2-c1", "r2-c2"]);
/// assert!(expand_nodelist("n[3-1]").is_err());
/// ```
pub fn expand_nodelist(list: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    let bytes = list.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'[' => depth += 1,
            b']' => {
                depth = depth
                    .checked_sub(1)
                    .ok_or_else(|| format!("unbalanced ']' at position {i}"))?
            }
            b',' if depth == 0 => {
                expand_item(list[start..i].trim(), &mut out)?;
                start = i + 1;
            }
            _ => {}
        }
    }
    if depth != 0 {
        return Err("unbalanced '['".into());
    }
    expand_item(list[start..].trim(), &mut out)?;
    Ok(out)
}

pub(super) fn expand_item(item: &str, out: &mut Vec<String>) -> Result<(), String> {
    if item.is_empty() {
        return Err("empty host name".into());
    }
    let Some(open) = item.find('[') else {
        out.push(item.to_string());
        return Ok(());
    };
    let close = item[open..]
        .find(']')
        .map(|c| open + c)
        .ok_or_else(|| format!("{item:?}: unbalanced '['"))?;
    let (prefix, ranges, rest) = (&item[..open], &item[open + 1..close], &item[close + 1..]);
    for range in ranges.split(',') {
        let range = range.trim();
        let (lo, hi) = range.split_once('-').unwrap_or((range, range));
        let parse = |s: &str| {
            s.parse::<u64>()
                .map_err(|_| format!("{item:?}: {range:?} is not a number or range"))
        };
        let (a, b) = (parse(lo)?, parse(hi)?);
        if a > b {
            return Err(format!("{item:?}: range {range:?} runs backwards"));
        }
        if b - a > 100_000 {
            return Err(format!("{item:?}: range {range:?} is too long"));
        }
        let width = lo.len();
        for n in a..=b {
            // The rest may hold more brackets: expand it for each number.
            expand_item(&format!("{prefix}{n:0width$}{rest}"), out)?;
        }
    }
    Ok(())
}

/// `2(x3),1` → `[2, 2, 2, 1]`.
pub(super) fn expand_tasks_per_node(v: &str) -> Result<Vec<usize>, String> {
    let mut out = Vec::new();
    for part in v.split(',') {
        let part = part.trim();
        let (count, repeat) = match part.split_once("(x") {
            Some((c, r)) => (
                c,
                r.strip_suffix(')')
                    .ok_or_else(|| format!("{part:?}: expected N(xM)"))?,
            ),
            None => (part, "1"),
        };
        let count: usize = count
            .parse()
            .map_err(|_| format!("{part:?}: {count:?} is not a number"))?;
        let repeat: usize = repeat
            .parse()
            .map_err(|_| format!("{part:?}: {repeat:?} is not a number"))?;
        if repeat > 100_000 {
            return Err(format!("{part:?}: too many nodes"));
        }
        out.extend(std::iter::repeat_n(count, repeat));
    }
    Ok(out)
}
