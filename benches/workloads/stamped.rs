//! Generated benchmark data that is made once and reused: a folder of files
//! with a `STAMP` naming what was generated.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

/// Returns `dir` at once if its `STAMP` reads `stamp` and every file of
/// `files` is there; otherwise writes every file with `write(index, path)`
/// (in parallel), then the stamp. The stamp is removed first and written
/// last, so an interrupted run is never mistaken for finished data; `write`
/// should write under a temporary name and rename, so no short file is left.
pub fn ensure_stamped(
    dir: PathBuf,
    stamp: &str,
    files: &[PathBuf],
    what: &str,
    write: impl Fn(usize, &Path) -> std::io::Result<()> + Sync,
) -> std::io::Result<PathBuf> {
    let stamp_file = dir.join("STAMP");
    if std::fs::read_to_string(&stamp_file).is_ok_and(|s| s == stamp)
        && files.iter().all(|f| f.is_file())
    {
        return Ok(dir);
    }
    std::fs::create_dir_all(&dir)?;
    let _ = std::fs::remove_file(&stamp_file);
    eprintln!("generating {what} into {} ...", dir.display());
    files
        .par_iter()
        .enumerate()
        .try_for_each(|(i, path)| write(i, path))?;
    std::fs::write(&stamp_file, stamp)?;
    Ok(dir)
}
