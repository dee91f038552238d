//! Reading files: gzip detection, the size of a file to plan blocks by,
//! and line numbers for error messages.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use flate2::read::MultiGzDecoder;

use super::{FileError, IO_BUFFER};

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

/// The size of a file to read; a directory is an error naming it.
pub(crate) fn file_size(path: &Path) -> Result<u64, FileError> {
    let meta = std::fs::metadata(path).map_err(|e| FileError::io(path, e))?;
    if meta.is_dir() {
        return Err(FileError::io(
            path,
            io::Error::new(io::ErrorKind::IsADirectory, "is a directory, not a file"),
        ));
    }
    Ok(meta.len())
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
