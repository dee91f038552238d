//! File helpers shared by the readers of bags and frames: glob expansion,
//! gzip detection, and line numbers for error messages.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;

/// Buffer size of readers and writers: large enough that a system call
/// moves a useful amount of data, small next to a block.
pub(crate) const IO_BUFFER: usize = 256 << 10;

/// Why a glob did not give a list of files. Each collection turns it into
/// its own error type.
#[derive(Debug)]
pub(crate) enum GlobError {
    /// The pattern is malformed (or not UTF-8).
    Pattern { pattern: String, reason: String },
    /// Nothing matched.
    NoFiles { pattern: String },
    /// A directory on the way could not be listed.
    Io { path: PathBuf, source: io::Error },
}

/// The sorted, deduplicated paths matching `pattern` (a glob or a plain
/// path). `*` and `?` do not match a leading `.` (hidden files), as in a
/// shell.
pub(crate) fn expand_glob(pattern: &Path) -> Result<Vec<PathBuf>, GlobError> {
    let shown = pattern.to_string_lossy().into_owned();
    let text = pattern.to_str().ok_or_else(|| GlobError::Pattern {
        pattern: shown.clone(),
        reason: "the pattern is not valid UTF-8".into(),
    })?;
    let options = glob::MatchOptions {
        case_sensitive: true,
        require_literal_separator: true,
        require_literal_leading_dot: true,
    };
    let matches = glob::glob_with(text, options).map_err(|e| GlobError::Pattern {
        pattern: shown.clone(),
        reason: e.to_string(),
    })?;
    let mut files = Vec::new();
    for entry in matches {
        // A directory on the way that cannot be listed: fail rather than
        // silently read fewer files.
        let path = entry.map_err(|e| GlobError::Io {
            path: e.path().to_path_buf(),
            source: e.into(),
        })?;
        files.push(path);
    }
    if files.is_empty() {
        return Err(GlobError::NoFiles { pattern: shown });
    }
    files.sort();
    files.dedup();
    Ok(files)
}

/// Whether `path` names a gzip file (by its extension, in any case).
pub(crate) fn is_gz(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("gz"))
}

/// The 1-based number of the line containing byte `offset` of `path`
/// (decompressed offset for `.gz`): one more than the newlines before it.
/// Reads the file up to `offset`; only error paths call it.
pub(crate) fn line_number_at(path: &Path, offset: u64) -> io::Result<u64> {
    if offset == 0 {
        return Ok(1);
    }
    let file = File::open(path)?;
    let reader: Box<dyn Read> = if is_gz(path) {
        Box::new(MultiGzDecoder::new(file))
    } else {
        Box::new(file)
    };
    let mut reader = reader.take(offset);
    let mut buf = vec![0u8; IO_BUFFER];
    let mut newlines = 0u64;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        newlines += memchr::memchr_iter(b'\n', &buf[..n]).count() as u64;
    }
    Ok(newlines + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gz_names() {
        assert!(is_gz(Path::new("a/b.json.gz")));
        assert!(is_gz(Path::new("B.GZ")));
        assert!(!is_gz(Path::new("a.gzip")));
        assert!(!is_gz(Path::new("gz")));
    }
}
