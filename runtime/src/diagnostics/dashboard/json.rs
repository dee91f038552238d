//! The messages the page receives, as JSON: a `snapshot` of everything when
//! it connects, then an `update` per interval with what changed.
//!
//! Field by field (times in ms from the dashboard's start):
//! `now`; `names` (task names; ids are positions) and `names_from` (in an
//! update, the id of its first name); `rows` (`[process, worker]`) and
//! `rows_from`; `groups` (`[name, total, done, running, failed]`);
//! `graph` (`{"layers": [[name, tasks, output]], "edges": [[from, to]]}`);
//! `bars` (`[row, start, end, name, count, failed]`); `running`
//! (`[row, name, since]`); `procs` (`[process, rss_bytes, cpu_percent]`);
//! `busy` (% per row); `status`; `failure` (`{key, error, process, at}`
//! or null).

use std::fmt::Write;

use super::bars::Bar;
use super::state::State;
use crate::diagnostics::trace::json_string;

/// Everything, for a page that just connected.
pub(super) fn snapshot(s: &State) -> String {
    let mut out = String::with_capacity(64 * 1024 + s.history.len() * 40);
    let _ = write!(out, r#"{{"type":"snapshot","now":{:.3}"#, s.now());
    out.push_str(r#","names_from":0,"names":"#);
    names(&mut out, s, 0);
    out.push_str(r#","rows_from":0,"rows":"#);
    rows(&mut out, s, 0);
    out.push_str(r#","groups":"#);
    groups(&mut out, s);
    out.push_str(r#","graph":"#);
    graph(&mut out, s);
    out.push_str(r#","bars":"#);
    bars(&mut out, s.history.iter());
    common(&mut out, s);
    out.push_str(r#","failure":"#);
    failure(&mut out, s);
    out.push('}');
    out
}

/// What changed since the last update (and forgets it).
pub(super) fn update(s: &mut State) -> String {
    let dirty = std::mem::take(&mut s.dirty);
    let mut out = String::with_capacity(1024 + dirty.bars.len() * 40);
    let _ = write!(out, r#"{{"type":"update","now":{:.3}"#, s.now());
    let _ = write!(out, r#","names_from":{},"names":"#, dirty.names_from);
    names(&mut out, s, dirty.names_from);
    let _ = write!(out, r#","rows_from":{},"rows":"#, dirty.rows_from);
    rows(&mut out, s, dirty.rows_from);
    if dirty.groups {
        out.push_str(r#","groups":"#);
        groups(&mut out, s);
    }
    if dirty.graph {
        out.push_str(r#","graph":"#);
        graph(&mut out, s);
    }
    out.push_str(r#","bars":"#);
    bars(&mut out, dirty.bars.iter());
    common(&mut out, s);
    if dirty.failure {
        out.push_str(r#","failure":"#);
        failure(&mut out, s);
    }
    out.push('}');
    s.dirty.names_from = s.names.len();
    s.dirty.rows_from = s.rows.len();
    out
}

/// Forgets the changes (nobody is watching).
pub(super) fn discard(s: &mut State) {
    s.dirty = Default::default();
    s.dirty.names_from = s.names.len();
    s.dirty.rows_from = s.rows.len();
}

fn names(out: &mut String, s: &State, from: usize) {
    out.push('[');
    for (i, n) in s.names.iter().enumerate().skip(from) {
        if i > from {
            out.push(',');
        }
        json_string(out, n);
    }
    out.push(']');
}

fn rows(out: &mut String, s: &State, from: usize) {
    out.push('[');
    for (i, (p, w)) in s.rows.iter().enumerate().skip(from) {
        if i > from {
            out.push(',');
        }
        let _ = write!(out, "[{p},{w}]");
    }
    out.push(']');
}

fn groups(out: &mut String, s: &State) {
    out.push('[');
    let mut first = true;
    for (id, g) in s.groups.iter().enumerate() {
        let c = s.counts(id as u32);
        if g.total == 0 && c.done == 0 && c.running == 0 {
            continue;
        }
        if !first {
            out.push(',');
        }
        first = false;
        let total = g.total.max(c.done + c.running);
        let _ = write!(out, "[{id},{total},{},{},{}]", c.done, c.running, c.failed);
    }
    out.push(']');
}

fn graph(out: &mut String, s: &State) {
    out.push_str(r#"{"layers":["#);
    for (i, (name, tasks, output)) in s.layers.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "[{name},{tasks},{output}]");
    }
    out.push_str(r#"],"edges":["#);
    for (i, (a, b)) in s.edges.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "[{a},{b}]");
    }
    out.push_str("]}");
}

fn bars<'a>(out: &mut String, bars: impl Iterator<Item = &'a Bar>) {
    out.push('[');
    for (i, b) in bars.enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(
            out,
            "[{},{:.3},{:.3},{},{},{}]",
            b.row, b.start, b.end, b.name, b.count, b.failed
        );
    }
    out.push(']');
}

/// Sent every time: running tasks, resources, status.
fn common(out: &mut String, s: &State) {
    out.push_str(r#","running":["#);
    for (i, (row, name, since)) in s.running.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "[{row},{name},{since:.3}]");
    }
    let _ = write!(out, r#"],"procs":[[0,{},{:.1}]"#, s.rss, s.cpu);
    let mut procs: Vec<_> = s.remote.iter().collect();
    procs.sort_by_key(|(p, _)| **p);
    for (p, r) in procs {
        let _ = write!(out, ",[{p},{},{:.1}]", r.rss, r.cpu);
    }
    out.push_str(r#"],"busy":["#);
    for (i, b) in s.busy.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "{b:.1}");
    }
    let (mut done, mut failed, mut totals) = (0, 0, 0);
    for (id, g) in s.groups.iter().enumerate() {
        let c = s.counts(id as u32);
        done += c.done;
        failed += c.failed;
        totals += g.total;
    }
    let r = &s.run;
    let state = match (r.number, r.active, r.failed) {
        (0, _, _) => "waiting",
        (_, 0, true) => "failed",
        (_, 0, false) => "finished",
        _ => "running",
    };
    let _ = write!(
        out,
        r#"],"status":{{"state":"{state}","run":{},"computations":{},"tasks":{},"done":{done},"failed":{failed},"started":{:.3},"ended":{}}}"#,
        r.number,
        r.active,
        // On a cluster's process 0 the graph counts every process's tasks.
        r.tasks.max(done).max(totals),
        r.started,
        r.ended.map_or("null".to_string(), |e| format!("{e:.3}")),
    );
}

fn failure(out: &mut String, s: &State) {
    match &s.failure {
        None => out.push_str("null"),
        Some(f) => {
            out.push_str(r#"{"key":"#);
            json_string(out, &f.key);
            out.push_str(r#","error":"#);
            match &f.error {
                Some(e) => json_string(out, e),
                None => out.push_str("null"),
            }
            let _ = write!(out, r#","process":{},"at":{:.3}}}"#, f.process, f.at);
        }
    }
}
