//! The values of the environment variables a cluster is configured by,
//! parsed with errors that name the variable and the value.

use std::time::Duration;

use crate::ClusterError;

pub(super) fn bad(name: &str, value: &str, message: &str) -> ClusterError {
    ClusterError::Config {
        name: name.into(),
        value: value.into(),
        message: message.into(),
    }
}

pub(super) fn parse_count(name: &str, v: &str) -> Result<usize, ClusterError> {
    v.trim()
        .parse::<usize>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| bad(name, v, "not a positive whole number"))
}

pub(super) fn parse_index(name: &str, v: &str) -> Result<usize, ClusterError> {
    v.trim()
        .parse::<usize>()
        .map_err(|_| bad(name, v, "not a process index (0, 1, ...)"))
}

pub(super) fn parse_seconds(name: &str, v: &str) -> Result<Duration, ClusterError> {
    v.trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s > 0.0 && *s < 1e9)
        .map(Duration::from_secs_f64)
        .ok_or_else(|| bad(name, v, "not a positive number of seconds"))
}
