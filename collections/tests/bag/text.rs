//! Bag text input and output: `read_text` over globs of plain and `.gz`
//! files, block splitting, JSON lines with errors at file and line, and
//! `to_textfiles` round trips.

use std::io::Write;
use std::path::{Path, PathBuf};

use dagwood_collections::bag::{read_text, Bag, BagError, ReadText};
use dagwood_collections::FileError;
use dagwood_runtime::{compute_all, compute_all_with, Scheduler, TaskError};
use flate2::write::GzEncoder;
use flate2::Compression;
use proptest::prelude::*;

/// A directory removed when dropped (the crate has no tempfile dependency).
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "dagwood-bag-text-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    fn write(&self, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// The bag error a failed task carried, or the error itself.
fn inner(e: &BagError) -> &BagError {
    if let BagError::Compute(dagwood_runtime::Error::Task {
        cause: TaskError::Failed(cause),
        ..
    }) = e
    {
        if let Some(b) = cause.downcast_ref::<BagError>() {
            return b;
        }
    }
    e
}

/// The lines of `text` as a sequential reader sees them: split at `\n`,
/// a `\r` before the `\n` dropped, no empty item after a final newline.
fn reference_lines(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        match rest.find('\n') {
            Some(i) => {
                let line = &rest[..i];
                out.push(line.strip_suffix('\r').unwrap_or(line).to_string());
                rest = &rest[i + 1..];
            }
            None => {
                out.push(rest.to_string());
                rest = "";
            }
        }
    }
    out
}

fn lines(n: usize, f: impl Fn(usize) -> String) -> String {
    (1..=n).map(|i| f(i) + "\n").collect()
}

// ---------------------------------------------------------------- reading

#[test]
fn glob_reads_plain_and_gz_in_sorted_order() {
    let d = TempDir::new("glob");
    d.write("b.txt", "b1\nb2\n");
    d.write("a.txt.gz", gzip(b"a1\r\na2"));
    d.write("c.txt", "c1\n\nc3\n");
    d.write(".hidden.txt", "hidden\n");
    d.write("other.csv", "nope\n");
    let bag = read_text(d.path("*.txt*")).unwrap();
    assert_eq!(bag.npartitions(), 3);
    assert_eq!(
        bag.compute().unwrap(),
        ["a1", "a2", "b1", "b2", "c1", "", "c3"]
    );
    // A plain path is a pattern matching itself.
    assert_eq!(
        read_text(d.path("b.txt")).unwrap().compute().unwrap(),
        ["b1", "b2"]
    );
}

#[test]
fn gz_with_several_members_is_read_whole() {
    let d = TempDir::new("members");
    let mut bytes = gzip(b"one\ntw");
    bytes.extend(gzip(b"o\nthree\n"));
    d.write("m.gz", bytes);
    let bag = ReadText::new(d.path("m.gz")).blocksize(2).read().unwrap();
    assert_eq!(bag.npartitions(), 1, "gzip files are not split");
    assert_eq!(bag.compute().unwrap(), ["one", "two", "three"]);
}

#[test]
fn blocks_cut_a_big_file_and_read_each_line_once() {
    let d = TempDir::new("blocks");
    let text = lines(10_000, |i| format!("{i:>width$}", width = i % 37));
    d.write("big.txt", &text);
    for bs in [1, 7, 100, 4096, 1 << 20] {
        let bag = ReadText::new(d.path("big.txt"))
            .blocksize(bs)
            .read()
            .unwrap();
        assert_eq!(bag.npartitions() as u64, (text.len() as u64).div_ceil(bs));
        assert_eq!(
            bag.compute().unwrap(),
            reference_lines(&text),
            "blocksize {bs}"
        );
    }
}

#[test]
fn lines_longer_than_a_block() {
    let d = TempDir::new("long");
    let long = "x".repeat(1000);
    let text = format!("a\n{long}\nb\r\n{long}");
    d.write("long.txt", &text);
    let bag = ReadText::new(d.path("long.txt"))
        .blocksize(10)
        .read()
        .unwrap();
    let parts = compute_all(bag.to_delayed()).unwrap();
    // Most blocks start inside a long line and own nothing.
    assert!(parts.iter().filter(|p| p.is_empty()).count() > 150);
    assert_eq!(parts.concat(), ["a", long.as_str(), "b", long.as_str()]);
}

#[test]
fn empty_files_are_empty_partitions() {
    let d = TempDir::new("empty");
    d.write("a.txt", "");
    d.write("b.txt", "x");
    let bag = ReadText::new(d.path("*.txt")).blocksize(1).read().unwrap();
    assert_eq!(bag.npartitions(), 2);
    assert_eq!(bag.compute().unwrap(), ["x"]);
}

#[test]
fn lines_appended_after_building_go_to_the_last_block() {
    let d = TempDir::new("append");
    let p = d.write("log.txt", "a\nb\nc\n");
    let bag = ReadText::new(&p).blocksize(2).read().unwrap();
    std::fs::OpenOptions::new()
        .append(true)
        .open(&p)
        .unwrap()
        .write_all(b"d\n")
        .unwrap();
    assert_eq!(bag.compute().unwrap(), ["a", "b", "c", "d"]);
}

#[test]
fn a_file_that_shrank_after_building_is_an_error() {
    let d = TempDir::new("shrink");
    let p = d.write("log.txt", "a\nb\nc\n");
    let bag = ReadText::new(&p).blocksize(2).read().unwrap();
    std::fs::write(&p, "a\n").unwrap();
    let err = bag.compute().unwrap_err();
    match inner(&err) {
        BagError::File(FileError::Io { path, source }) => {
            assert_eq!(path, &p);
            assert!(source.to_string().contains("shrank"), "{source}");
        }
        other => panic!("unexpected error {other:?}"),
    }
}

#[test]
fn invalid_utf8_names_file_and_line() {
    let d = TempDir::new("utf8");
    let mut bytes = lines(500, |i| format!("line {i}")).into_bytes();
    bytes.extend(b"bad \xff byte\nafter\n");
    let p = d.write("u.txt", &bytes);
    let err = ReadText::new(&p)
        .blocksize(64)
        .read()
        .unwrap()
        .compute()
        .unwrap_err();
    assert!(
        matches!(inner(&err), BagError::Parse { line: 501, .. }),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains(&format!("{}:501: invalid UTF-8", p.display())),
        "{err}"
    );

    let g = d.write("u.txt.gz", gzip(&bytes));
    let err = read_text(&g).unwrap().compute().unwrap_err();
    assert!(
        err.to_string()
            .contains(&format!("{}:501: invalid UTF-8", g.display())),
        "{err}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Any files, any block size: exactly the lines of a sequential read,
    /// file after file.
    #[test]
    fn blocks_give_the_lines_of_a_sequential_read(
        files in prop::collection::vec(
            prop::collection::vec(
                prop::sample::select(vec!["a", "bc", "é", "\n", "\n", "\r\n", "\r", "xxxxxxxxxxxxxxxxxxxxxxxx", " "]),
                0..60,
            ),
            1..4,
        ),
        blocksize in 1u64..80,
    ) {
        let d = TempDir::new("prop");
        let mut expected = Vec::new();
        let mut nparts = 0;
        for (i, pieces) in files.iter().enumerate() {
            let text: String = pieces.concat();
            d.write(&format!("f{i}.txt"), &text);
            expected.extend(reference_lines(&text));
            nparts += (text.len() as u64).div_ceil(blocksize).max(1) as usize;
        }
        let bag = ReadText::new(d.path("f*.txt")).blocksize(blocksize).read().unwrap();
        prop_assert_eq!(bag.npartitions(), nparts);
        prop_assert_eq!(bag.compute_with(&Scheduler::Sync).unwrap(), expected);
    }
}

// ---------------------------------------------------------------- bad input

#[test]
fn every_truncation_of_a_gz_is_an_error() {
    let d = TempDir::new("trunc");
    let text = lines(300, |i| format!("record number {i} with some text"));
    let full = gzip(text.as_bytes());
    for cut in 0..full.len() {
        let p = d.write("t.gz", &full[..cut]);
        // Each cut is read by a fresh bag (the file is opened when the task runs).
        let err = read_text(&p)
            .unwrap()
            .compute_with(&Scheduler::Sync)
            .expect_err(&format!(
                "a .gz cut to {cut} of {} bytes must not read",
                full.len()
            ));
        match inner(&err) {
            BagError::File(FileError::Io { path, .. }) => assert_eq!(path, &p),
            other => panic!("cut {cut}: unexpected error {other:?}"),
        }
        assert!(err.to_string().contains(&p.display().to_string()), "{err}");
    }
    let p = d.write("t.gz", &full);
    assert_eq!(
        read_text(&p).unwrap().compute().unwrap(),
        reference_lines(&text)
    );
}

#[test]
fn a_truncated_second_gzip_member_is_an_error() {
    let d = TempDir::new("trunc2");
    let mut bytes = gzip(b"first\n");
    let second = gzip(b"second\nthird\n");
    let whole = bytes.len() + second.len();
    bytes.extend(&second);
    for cut in bytes.len() - second.len() + 1..whole {
        let p = d.write("t.gz", &bytes[..cut]);
        let err = read_text(&p)
            .unwrap()
            .compute()
            .expect_err("truncated member");
        assert!(
            matches!(inner(&err), BagError::File(FileError::Io { .. })),
            "{err}"
        );
    }
}

#[test]
fn corrupt_gz_is_an_error() {
    let d = TempDir::new("corrupt");
    let text = lines(300, |i| format!("record number {i}"));
    let full = gzip(text.as_bytes());
    let n = full.len();
    // Compressed data (after the 10-byte header), the CRC and the length.
    for pos in [10, 11, n / 3, n / 2, n - 12, n - 8, n - 5, n - 1] {
        let mut bad = full.clone();
        bad[pos] ^= 0xff;
        let p = d.write("c.gz", &bad);
        let err = read_text(&p)
            .unwrap()
            .compute()
            .expect_err(&format!("byte {pos} flipped"));
        match inner(&err) {
            BagError::File(FileError::Io { path, .. }) => assert_eq!(path, &p),
            other => panic!("byte {pos}: unexpected error {other:?}"),
        }
    }
    // Not gzip at all, and garbage after a good member.
    let p = d.write("plain.gz", "just text\n");
    assert!(matches!(
        inner(&read_text(&p).unwrap().compute().unwrap_err()),
        BagError::File(FileError::Io { .. })
    ));
    let mut trailing = full.clone();
    trailing.extend(b"garbage");
    let p = d.write("trailing.gz", &trailing);
    assert!(matches!(
        inner(&read_text(&p).unwrap().compute().unwrap_err()),
        BagError::File(FileError::Io { .. })
    ));
}

#[test]
fn empty_glob_names_the_pattern() {
    let d = TempDir::new("noglob");
    let pattern = d.path("2014-*.log");
    let err = read_text(&pattern).unwrap_err();
    match &err {
        BagError::File(FileError::NoFiles { pattern: p }) => {
            assert_eq!(p, &pattern.display().to_string())
        }
        other => panic!("unexpected error {other:?}"),
    }
    assert!(err.to_string().contains("2014-*.log"), "{err}");
}

#[test]
fn bad_pattern_and_blocksize() {
    let err = read_text("logs/[z.log").unwrap_err();
    assert!(
        matches!(&err, BagError::File(FileError::Pattern { pattern, .. }) if pattern == "logs/[z.log"),
        "{err}"
    );
    let d = TempDir::new("bs0");
    d.write("a.txt", "a\n");
    let err = ReadText::new(d.path("a.txt"))
        .blocksize(0)
        .read()
        .unwrap_err();
    assert!(matches!(err, BagError::Invalid(_)), "{err}");
}

#[test]
fn a_directory_is_an_io_error_naming_it() {
    let d = TempDir::new("dir");
    d.write("a.log", "a\n");
    std::fs::create_dir(d.path("b.log")).unwrap();
    let err = read_text(d.path("*.log")).unwrap_err();
    match &err {
        BagError::File(FileError::Io { path, .. }) => assert_eq!(path, &d.path("b.log")),
        other => panic!("unexpected error {other:?}"),
    }
}

#[test]
fn a_file_gone_before_compute_is_an_io_error_naming_it() {
    let d = TempDir::new("gone");
    let p = d.write("a.txt", "a\n");
    let bag = read_text(&p).unwrap();
    std::fs::remove_file(&p).unwrap();
    let err = bag.compute().unwrap_err();
    match inner(&err) {
        BagError::File(FileError::Io { path, source }) => {
            assert_eq!(path, &p);
            assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
        }
        other => panic!("unexpected error {other:?}"),
    }
}

#[cfg(unix)]
#[test]
fn a_file_without_read_permission_is_an_io_error_naming_it() {
    use std::os::unix::fs::PermissionsExt;
    let d = TempDir::new("perm");
    let p = d.write("secret.txt", "a\n");
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::File::open(&p).is_ok() {
        // Running as root: permissions do not stop reading; nothing to test.
        return;
    }
    let err = read_text(&p).unwrap().compute().unwrap_err();
    match inner(&err) {
        BagError::File(FileError::Io { path, source }) => {
            assert_eq!(path, &p);
            assert_eq!(source.kind(), std::io::ErrorKind::PermissionDenied);
        }
        other => panic!("unexpected error {other:?}"),
    }
}

// ---------------------------------------------------------------- JSON lines

#[derive(serde::Deserialize, Clone, Debug, PartialEq)]
struct Rec {
    name: String,
    n: u64,
}

fn rec_line(i: usize) -> String {
    format!(r#"{{"name": "r{i}", "n": {i}}}"#)
}

#[test]
fn map_json_typed_and_untyped_skip_blank_lines() {
    let d = TempDir::new("json");
    d.write(
        "a.json",
        format!("{}\n\n   \n{}\r\n", rec_line(1), rec_line(2)),
    );
    d.write("b.json.gz", gzip(format!("{}\n", rec_line(3)).as_bytes()));
    let bag = read_text(d.path("*.json*")).unwrap();
    let recs = bag.map_json::<Rec>().compute().unwrap();
    assert_eq!(recs.iter().map(|r| r.n).collect::<Vec<_>>(), [1, 2, 3]);
    let values = bag.map_json_value().compute().unwrap();
    assert_eq!(values[2]["name"], "r3");
}

#[test]
fn json_error_names_file_and_line_in_a_split_block() {
    let d = TempDir::new("jsonsplit");
    let mut text = String::new();
    for i in 1..=2000 {
        text += &match i {
            777 => r#"{"name": x}"#.to_string(),
            i if i % 10 == 0 => String::new(),
            i if i % 3 == 0 => rec_line(i) + "\r",
            i => rec_line(i),
        };
        text += "\n";
    }
    let p = d.write("records.json", &text);
    for bs in [97, 1000, 4096, u64::MAX] {
        let bag = ReadText::new(&p).blocksize(bs).read().unwrap();
        assert!(bs == u64::MAX || bag.npartitions() > 5);
        let err = bag.map_json::<Rec>().compute().unwrap_err();
        match inner(&err) {
            BagError::Parse {
                path,
                line,
                message,
            } => {
                assert_eq!((path, *line), (&p, 777), "blocksize {bs}: {message}");
                assert_eq!(message, "expected value at line 1 column 10");
            }
            other => panic!("unexpected error {other:?}"),
        }
        assert!(err
            .to_string()
            .contains(&format!("{}:777: expected value", p.display())));
    }
}

#[test]
fn json_error_names_file_and_line_in_a_gz() {
    let d = TempDir::new("jsongz");
    d.write("part-02.json.gz", gzip(lines(50, rec_line).as_bytes()));
    let text = lines(2000, |i| {
        if i == 1234 {
            r#"{"a": x}"#.to_string()
        } else {
            rec_line(i)
        }
    });
    let p = d.write("part-03.json.gz", gzip(text.as_bytes()));
    let err = read_text(d.path("part-*.json.gz"))
        .unwrap()
        .map_json_value()
        .compute()
        .unwrap_err();
    let want = format!("{}:1234: expected value at line 1 column 7", p.display());
    assert!(err.to_string().contains(&want), "{err}");
    assert_eq!(inner(&err).to_string(), want);
}

#[test]
fn json_error_without_origin_names_partition_and_item() {
    let items = ["1", "2", "3", "[4", "5"].map(String::from);
    let err = Bag::from_sequence(items, 2)
        .unwrap()
        .map_json::<serde_json::Value>()
        .compute()
        .unwrap_err();
    match inner(&err) {
        BagError::Parse { path, line, .. } => {
            assert_eq!(path, Path::new("<partition 1>"));
            assert_eq!(*line, 1);
        }
        other => panic!("unexpected error {other:?}"),
    }
}

#[test]
fn skip_bad_counts_bad_records() {
    let d = TempDir::new("skip");
    let mut expected = Vec::new();
    let mut bad = 0;
    for f in 0..4 {
        let mut text = String::new();
        for i in 0..500 {
            let id = f * 1000 + i;
            if i % 7 == 3 {
                text += "{\"name\": \"broken\"\n"; // bad
                bad += 1;
            } else if i % 11 == 5 {
                text += "\n"; // blank: skipped, not counted
            } else if i % 13 == 0 {
                text += "{\"name\": \"r\", \"n\": -1}\n"; // valid JSON, not a Rec
                bad += 1;
            } else {
                text += &(rec_line(id) + "\n");
                expected.push(id as u64);
            }
        }
        let name = format!("part-{f}.json{}", if f % 2 == 0 { ".gz" } else { "" });
        if f % 2 == 0 {
            d.write(&name, gzip(text.as_bytes()));
        } else {
            d.write(&name, text);
        }
    }
    let bag = ReadText::new(d.path("part-*"))
        .blocksize(1000)
        .read()
        .unwrap();
    let (recs, skipped) = bag.map_json_skip_bad::<Rec>();
    for scheduler in [Scheduler::Sync, Scheduler::current()] {
        let (parts, n) = compute_all_with((recs.to_delayed(), &skipped), &scheduler).unwrap();
        let got: Vec<u64> = parts.concat().iter().map(|r| r.n).collect();
        assert_eq!(got, expected);
        assert_eq!(n, bad);
    }
    assert_eq!(skipped.compute().unwrap(), bad);
    assert_eq!(recs.compute().unwrap().len(), expected.len());
}

/// A record that counts its clones: skipping bad records must move each
/// partition's records out of the parse task, not copy them.
#[derive(serde::Deserialize, Debug)]
struct Counted(#[allow(dead_code)] u64);

static CLONES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

impl Clone for Counted {
    fn clone(&self) -> Self {
        CLONES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Counted(self.0)
    }
}

#[test]
fn skip_bad_moves_records_without_copying() {
    let items: Vec<String> = (0..1000)
        .map(|i| {
            if i % 10 == 0 {
                "x".into()
            } else {
                i.to_string()
            }
        })
        .collect();
    let (recs, skipped) = Bag::from_sequence(items, 8)
        .unwrap()
        .map_json_skip_bad::<Counted>();
    for scheduler in [Scheduler::Sync, Scheduler::current()] {
        CLONES.store(0, std::sync::atomic::Ordering::Relaxed);
        let (parts, n) = compute_all_with((recs.to_delayed(), &skipped), &scheduler).unwrap();
        // Read the clone count first: `concat` below would clone.
        assert_eq!(CLONES.load(std::sync::atomic::Ordering::Relaxed), 0);
        assert_eq!((parts.iter().map(Vec::len).sum::<usize>(), n), (900, 100));
    }
}

// ---------------------------------------------------------------- writing

#[test]
fn to_textfiles_round_trips_plain_and_gz() {
    let d = TempDir::new("write");
    let items: Vec<String> = (0..1000).map(|i| format!("item {i}")).collect();
    let bag = Bag::from_sequence(items.clone(), 12).unwrap();
    for pattern in ["plain/part-*.txt", "gz/nested/part-*.txt.gz"] {
        let paths = bag.to_textfiles(d.path(pattern)).unwrap();
        let names: Vec<String> = paths
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 12);
        assert!(
            names[0].starts_with("part-00.") && names[11].starts_with("part-11."),
            "{names:?}"
        );
        let glob = d.path(&pattern.replace('*', "??"));
        let back = read_text(&glob).unwrap();
        assert_eq!(back.npartitions(), 12);
        assert_eq!(back.compute().unwrap(), items);
    }
    let raw = std::fs::read(d.path("gz/nested/part-03.txt.gz")).unwrap();
    assert_eq!(&raw[..2], &[0x1f, 0x8b], "gzip magic");
}

#[test]
fn to_textfiles_writes_any_display_and_empty_partitions() {
    let d = TempDir::new("write2");
    let bag = Bag::from_sequence([1.5_f64, 2.0, -3.25], 5).unwrap();
    let paths = bag.to_textfiles(d.path("*.out")).unwrap();
    assert_eq!(paths.len(), 5);
    let back = read_text(d.path("*.out")).unwrap().compute().unwrap();
    assert_eq!(back, ["1.5", "2", "-3.25"]);
    let empty: u64 = paths
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().len())
        .filter(|&n| n == 0)
        .count() as u64;
    assert_eq!(empty, 2);
}

#[test]
fn to_textfiles_needs_a_star() {
    let d = TempDir::new("nostar");
    let bag = Bag::from_sequence(["a"], 1).unwrap();
    let err = bag.to_textfiles(d.path("out.txt")).unwrap_err();
    assert!(matches!(err, BagError::Invalid(_)), "{err}");
    assert!(err.to_string().contains("out.txt"), "{err}");
}

#[test]
fn to_textfiles_reports_the_path_it_cannot_create() {
    let d = TempDir::new("blocked");
    let file = d.write("file", "x");
    let bag = Bag::from_sequence(["a"], 1).unwrap();
    // A directory cannot be made under a regular file.
    let err = bag.to_textfiles(file.join("sub/*.txt")).unwrap_err();
    match &err {
        BagError::File(FileError::Io { path, .. }) => assert_eq!(path, &file.join("sub")),
        other => panic!("unexpected error {other:?}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn to_textfiles_then_read_text_is_the_identity(
        items in prop::collection::vec("[a-z é\t{}\"]{0,12}", 0..60),
        nparts in 1usize..9,
        gz in any::<bool>(),
    ) {
        let d = TempDir::new("proprt");
        let bag = Bag::from_sequence(items.clone(), nparts).unwrap();
        let pattern = if gz { "p-*.txt.gz" } else { "p-*.txt" };
        let paths = bag.to_textfiles(d.path(pattern)).unwrap();
        prop_assert_eq!(paths.len(), nparts);
        let back = read_text(d.path(pattern)).unwrap().compute().unwrap();
        prop_assert_eq!(back, items);
    }
}
