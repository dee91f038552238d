//! A [`Profiler`]'s records as Chrome trace event JSON, the format that
//! chrome://tracing and Perfetto (ui.perfetto.dev) open.
//!
//! Each task is a complete event (`"ph": "X"`) on the row (`tid`) of its
//! worker, named by its key and categorised by the key's name; resource
//! samples are counter events (`"ph": "C"`) drawn as graphs above the rows.

use std::fmt::Write;
use std::path::Path;

use super::Profiler;
use crate::{Error, Result};

impl Profiler {
    /// The records (and resource samples, if a
    /// [`ResourceProfiler`](super::ResourceProfiler) is attached) as Chrome
    /// trace event JSON. Times are in µs from the first record or sample.
    ///
    /// ```
    /// use dagwood_runtime::diagnostics::Profiler;
    /// use dagwood_runtime::{delayed, Key};
    /// let prof = Profiler::new();
    /// let x = delayed(2).with_key(Key::new("two")).map("square", |v: &i32| v * v);
    /// prof.run(|| x.compute()).unwrap();
    /// let json = prof.to_chrome_trace();
    /// assert!(json.starts_with(r#"{"traceEvents":["#));
    /// assert!(json.contains(r#""name":"two","cat":"two","ph":"X""#));
    /// ```
    pub fn to_chrome_trace(&self) -> String {
        let records = self.records();
        let samples = self.samples();
        let origin = Profiler::origin(&records, &samples);
        let us = |t: std::time::Instant| t.saturating_duration_since(origin).as_secs_f64() * 1e6;
        let mut out = String::with_capacity(128 + records.len() * 128);
        out.push_str(r#"{"traceEvents":["#);
        out.push_str(
            r#"{"name":"process_name","ph":"M","pid":1,"tid":0,"args":{"name":"dagwood"}}"#,
        );
        let mut workers: Vec<usize> = records.iter().map(|r| r.worker).collect();
        workers.sort_unstable();
        workers.dedup();
        for w in workers {
            let _ = write!(
                out,
                r#",{{"name":"thread_name","ph":"M","pid":1,"tid":{w},"args":{{"name":"worker {w}"}}}}"#
            );
            let _ = write!(
                out,
                r#",{{"name":"thread_sort_index","ph":"M","pid":1,"tid":{w},"args":{{"sort_index":{w}}}}}"#
            );
        }
        for r in &records {
            out.push_str(r#",{"name":"#);
            json_string(&mut out, &r.key.to_string());
            out.push_str(r#","cat":"#);
            json_string(&mut out, r.key.name());
            let _ = write!(
                out,
                r#","ph":"X","ts":{:.3},"dur":{:.3},"pid":1,"tid":{},"args":{{"failed":{}}}}}"#,
                us(r.start),
                us(r.end) - us(r.start),
                r.worker,
                r.failed
            );
        }
        for s in &samples {
            let _ = write!(
                out,
                r#",{{"name":"memory","ph":"C","ts":{:.3},"pid":1,"args":{{"rss_mb":{:.3}}}}}"#,
                us(s.at),
                s.rss_bytes as f64 / 1e6
            );
            let _ = write!(
                out,
                r#",{{"name":"cpu","ph":"C","ts":{:.3},"pid":1,"args":{{"percent":{:.1}}}}}"#,
                us(s.at),
                s.cpu_percent
            );
        }
        out.push_str(r#"],"displayTimeUnit":"ms"}"#);
        out.push('\n');
        out
    }

    /// Writes [`to_chrome_trace`](Self::to_chrome_trace) to `path`.
    ///
    /// ```
    /// use dagwood_runtime::diagnostics::Profiler;
    /// use dagwood_runtime::delayed;
    /// let prof = Profiler::new();
    /// prof.run(|| delayed(1).compute()).unwrap();
    /// let path = std::env::temp_dir().join("dagwood-doc-trace.json");
    /// prof.write_chrome_trace(&path).unwrap();
    /// assert!(std::fs::read_to_string(&path).unwrap().contains("traceEvents"));
    /// ```
    pub fn write_chrome_trace(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        std::fs::write(path, self.to_chrome_trace()).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })
    }
}

/// Appends `s` as a JSON string literal.
pub(super) fn json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}
