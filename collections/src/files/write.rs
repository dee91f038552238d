//! Writing one file per partition: the numbered paths of a pattern such as
//! `out/part-*.csv`, and their directories made up front.

use std::path::{Path, PathBuf};

use super::FileError;

/// The paths of `n` partition files: each `*` in `pattern` replaced by the
/// partition number, zero-padded to the width of the largest one
/// (`part-00.txt` ... `part-11.txt` for 12 partitions), so the files sort
/// in partition order. The `Err` says why the pattern cannot be used
/// (prefixed by `op`); each collection wraps it in its own error.
pub(crate) fn numbered_paths(op: &str, pattern: &Path, n: usize) -> Result<Vec<PathBuf>, String> {
    let text = pattern.to_str().ok_or_else(|| {
        format!(
            "{op}: the pattern {:?} is not valid UTF-8",
            pattern.to_string_lossy()
        )
    })?;
    if !text.contains('*') {
        return Err(format!(
            "{op}: the pattern {text:?} has no `*` to replace by the partition number"
        ));
    }
    let width = n.saturating_sub(1).to_string().len();
    Ok((0..n)
        .map(|i| PathBuf::from(text.replace('*', &format!("{i:0width$}"))))
        .collect())
}

/// Creates the directories of `paths` up front, once each, so that a
/// permission problem is a plain error before anything is computed.
pub(crate) fn create_parents(paths: &[PathBuf]) -> Result<(), FileError> {
    let mut dirs: Vec<&Path> = paths
        .iter()
        .filter_map(|p| p.parent())
        .filter(|d| !d.as_os_str().is_empty())
        .collect();
    dirs.sort();
    dirs.dedup();
    for dir in dirs {
        std::fs::create_dir_all(dir).map_err(|e| FileError::io(dir, e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_padded_to_the_widest() {
        let p = numbered_paths("to_x", Path::new("out/p-*.txt"), 12).unwrap();
        assert_eq!(p.len(), 12);
        assert_eq!(p[0], Path::new("out/p-00.txt"));
        assert_eq!(p[11], Path::new("out/p-11.txt"));
        let one = numbered_paths("to_x", Path::new("*.txt"), 1).unwrap();
        assert_eq!(one, [PathBuf::from("0.txt")]);
        let e = numbered_paths("to_x", Path::new("out.txt"), 3).unwrap_err();
        assert!(e.starts_with("to_x: ") && e.contains("no `*`"), "{e}");
    }
}
