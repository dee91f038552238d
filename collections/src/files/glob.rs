//! Expanding a glob pattern to the files a reader reads.

use std::path::{Path, PathBuf};

use super::FileError;

/// The sorted, deduplicated paths matching `pattern` (a glob or a plain
/// path). `*` and `?` do not match a leading `.` (hidden files), as in a
/// shell.
pub(crate) fn expand_glob(pattern: &Path) -> Result<Vec<PathBuf>, FileError> {
    let shown = pattern.to_string_lossy().into_owned();
    let text = pattern.to_str().ok_or_else(|| FileError::Pattern {
        pattern: shown.clone(),
        reason: "the pattern is not valid UTF-8".into(),
    })?;
    let options = glob::MatchOptions {
        case_sensitive: true,
        require_literal_separator: true,
        require_literal_leading_dot: true,
    };
    let matches = glob::glob_with(text, options).map_err(|e| FileError::Pattern {
        pattern: shown.clone(),
        reason: e.to_string(),
    })?;
    let mut files = Vec::new();
    for entry in matches {
        // A directory on the way that cannot be listed: fail rather than
        // silently read fewer files.
        let path = entry.map_err(|e| FileError::Io {
            path: e.path().to_path_buf(),
            source: e.into(),
        })?;
        files.push(path);
    }
    if files.is_empty() {
        return Err(FileError::NoFiles { pattern: shown });
    }
    files.sort();
    files.dedup();
    Ok(files)
}
