//! What the dashboard shows, aggregated: task groups, workers, the task
//! stream's bars, the plan's layers, the last failure. Updated per
//! computation by the callback and per interval by the aggregator thread,
//! from the records the workers left in their slots.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Instant;

use super::bars::{coalesce, Bar};
use super::collect::Record;
use super::remote::ProcessDigest;
use crate::diagnostics::{GraphSummary, ResourceSample};
use crate::Key;

/// Distinct task names kept apart; later ones are counted as "other".
pub(super) const MAX_NAMES: usize = 256;
/// Bars kept for a page that connects later.
pub(super) const HISTORY: usize = 20_000;
const OTHER: &str = "(other names)";

/// Counts of one task group (the tasks of one key name) in the current run.
#[derive(Clone, Copy, Default, Debug, PartialEq)]
pub(super) struct Counts {
    pub(super) done: u64,
    pub(super) failed: u64,
    pub(super) running: u64,
}

#[derive(Clone, Default)]
pub(super) struct Group {
    /// Tasks of this name in the run's graphs (0 when no graph said).
    pub(super) total: u64,
    /// This process's counts.
    pub(super) local: Counts,
}

/// What another process (of a cluster) last reported.
#[derive(Default)]
pub(super) struct Remote {
    pub(super) run: u64,
    /// Digests of runs before this are stale (from before a reset).
    pub(super) min_run: u64,
    pub(super) counts: HashMap<u32, Counts>,
    pub(super) rss: u64,
    pub(super) cpu: f64,
}

/// The last failure seen.
#[derive(Clone, Debug)]
pub(super) struct Failure {
    pub(super) key: String,
    pub(super) error: Option<String>,
    pub(super) process: u32,
    pub(super) at: f64,
}

/// The current run: from a computation's start while none ran, to the end
/// of the last that overlapped it.
#[derive(Default)]
pub(super) struct Run {
    pub(super) number: u64,
    pub(super) active: usize,
    pub(super) tasks: u64,
    pub(super) started: f64,
    pub(super) ended: Option<f64>,
    pub(super) failed: bool,
}

/// What changed since the last update was sent.
#[derive(Default)]
pub(super) struct Dirty {
    pub(super) names_from: usize,
    pub(super) rows_from: usize,
    pub(super) bars: Vec<Bar>,
    pub(super) groups: bool,
    pub(super) graph: bool,
    pub(super) failure: bool,
}

pub(super) struct State {
    pub(super) origin: Instant,
    pub(super) names: Vec<Arc<str>>,
    name_ids: HashMap<Arc<str>, u32>,
    /// Worker rows as (process, worker).
    pub(super) rows: Vec<(u32, u32)>,
    row_ids: HashMap<(u32, u32), u32>,
    /// By name id.
    pub(super) groups: Vec<Group>,
    pub(super) remote: HashMap<u32, Remote>,
    pub(super) run: Run,
    /// The run's graphs merged by layer: (name id, tasks, output).
    pub(super) layers: Vec<(u32, u64, bool)>,
    layer_of: HashMap<u32, usize>,
    pub(super) edges: Vec<(usize, usize)>,
    edge_set: HashSet<(usize, usize)>,
    pub(super) history: VecDeque<Bar>,
    /// Tasks running now: (row, name id, since when, ms).
    pub(super) running: Vec<(u32, u32, f64)>,
    running_since: HashMap<(usize, Key), f64>,
    pub(super) failure: Option<Failure>,
    /// Per row, the share of the last intervals its worker spent in tasks (%).
    pub(super) busy: Vec<f64>,
    last_tick: f64,
    /// Memory and CPU of this process.
    pub(super) rss: u64,
    pub(super) cpu: f64,
    cpu_base: Option<ResourceSample>,
    pub(super) dirty: Dirty,
    /// Scratch for one interval's bars.
    scratch: Vec<Bar>,
}

impl State {
    pub(super) fn new() -> State {
        State {
            origin: Instant::now(),
            names: Vec::new(),
            name_ids: HashMap::new(),
            rows: Vec::new(),
            row_ids: HashMap::new(),
            groups: Vec::new(),
            remote: HashMap::new(),
            run: Run::default(),
            layers: Vec::new(),
            layer_of: HashMap::new(),
            edges: Vec::new(),
            edge_set: HashSet::new(),
            history: VecDeque::new(),
            running: Vec::new(),
            running_since: HashMap::new(),
            failure: None,
            busy: Vec::new(),
            last_tick: 0.0,
            rss: 0,
            cpu: 0.0,
            cpu_base: None,
            dirty: Dirty::default(),
            scratch: Vec::new(),
        }
    }

    /// Milliseconds from the dashboard's start.
    pub(super) fn ms(&self, t: Instant) -> f64 {
        t.saturating_duration_since(self.origin).as_secs_f64() * 1e3
    }

    pub(super) fn now(&self) -> f64 {
        self.ms(Instant::now())
    }

    fn name_id(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.name_ids.get(name) {
            return id;
        }
        let name: Arc<str> = if self.names.len() + 1 >= MAX_NAMES {
            if let Some(&id) = self.name_ids.get(OTHER) {
                return id;
            }
            Arc::from(OTHER)
        } else {
            Arc::from(name)
        };
        let id = self.names.len() as u32;
        self.names.push(name.clone());
        self.name_ids.insert(name, id);
        self.groups.push(Group::default());
        id
    }

    fn row_id(&mut self, process: u32, worker: u32) -> u32 {
        if let Some(&id) = self.row_ids.get(&(process, worker)) {
            return id;
        }
        let id = self.rows.len() as u32;
        self.rows.push((process, worker));
        self.row_ids.insert((process, worker), id);
        self.busy.push(0.0);
        id
    }

    /// A computation of `tasks` tasks starts; a new run if none was running.
    pub(super) fn start(&mut self, tasks: usize) {
        if self.run.active == 0 {
            let number = self.run.number + 1;
            self.run = Run {
                number,
                started: self.now(),
                ..Run::default()
            };
            for g in &mut self.groups {
                *g = Group::default();
            }
            for r in self.remote.values_mut() {
                r.counts.clear();
                r.min_run = r.run + 1;
            }
            self.layers.clear();
            self.layer_of.clear();
            self.edges.clear();
            self.edge_set.clear();
            self.dirty.graph = true;
        }
        self.run.active += 1;
        self.run.tasks += tasks as u64;
        self.run.ended = None;
        self.dirty.groups = true;
    }

    /// Merges a computation's graph into the run's layers.
    pub(super) fn graph(&mut self, g: &GraphSummary) {
        let mut here = Vec::with_capacity(g.layers.len());
        for layer in &g.layers {
            let id = self.name_id(&layer.name);
            self.groups[id as usize].total += layer.tasks as u64;
            let at = match self.layer_of.get(&id) {
                Some(&at) => at,
                None => {
                    self.layers.push((id, 0, false));
                    self.layer_of.insert(id, self.layers.len() - 1);
                    self.layers.len() - 1
                }
            };
            self.layers[at].1 += layer.tasks as u64;
            self.layers[at].2 |= layer.output;
            here.push(at);
        }
        for &(a, b) in &g.edges {
            let (Some(&a), Some(&b)) = (here.get(a), here.get(b)) else {
                continue;
            };
            if a != b && self.edge_set.insert((a, b)) {
                self.edges.push((a, b));
            }
        }
        self.dirty.graph = true;
        self.dirty.groups = true;
    }

    /// A computation ended.
    pub(super) fn finish(&mut self, error: Option<&crate::Error>) {
        self.run.active = self.run.active.saturating_sub(1);
        if let Some(e) = error {
            self.run.failed = true;
            let key = e.key().map(ToString::to_string);
            let at = self.now();
            match (&mut self.failure, key) {
                // The failing task was seen: add the error to it.
                (Some(f), Some(k)) if f.key == k && f.error.is_none() => {
                    f.error = Some(e.to_string());
                }
                (_, key) => {
                    self.failure = Some(Failure {
                        key: key.unwrap_or_else(|| "(no task)".into()),
                        error: Some(e.to_string()),
                        process: 0,
                        at,
                    });
                }
            }
            self.dirty.failure = true;
        }
        if self.run.active == 0 {
            self.run.ended = Some(self.now());
        }
        self.dirty.groups = true;
    }

    /// One interval's records of this process, and the tasks running now.
    pub(super) fn absorb(&mut self, records: &[Record], running: &[(usize, Key)]) {
        let now = self.now();
        let span = (now - self.last_tick).max(1.0);
        let tick_start = self.last_tick;
        self.last_tick = now;
        let mut busy = vec![0.0; self.rows.len()];
        let mut bars = std::mem::take(&mut self.scratch);
        bars.clear();
        // Consecutive records mostly share a name: look it up once.
        let mut last: Option<(Key, u32)> = None;
        for r in records {
            let name = match &last {
                Some((k, id)) if k.name() == r.key.name() => *id,
                _ => {
                    let id = self.name_id(r.key.name());
                    last = Some((r.key.clone(), id));
                    id
                }
            };
            let row = self.row_id(0, r.worker as u32);
            let g = &mut self.groups[name as usize].local;
            g.done += 1;
            if r.failed {
                g.failed += 1;
                if self
                    .failure
                    .as_ref()
                    .is_none_or(|f| f.error.is_some() || f.key != r.key.to_string())
                {
                    self.failure = Some(Failure {
                        key: r.key.to_string(),
                        error: None,
                        process: 0,
                        at: self.ms(r.end),
                    });
                    self.dirty.failure = true;
                }
            }
            let (start, end) = (self.ms(r.start), self.ms(r.end));
            if busy.len() <= row as usize {
                busy.resize(row as usize + 1, 0.0);
            }
            busy[row as usize] += end.min(now) - start.max(tick_start).min(end);
            bars.push(Bar {
                row,
                start,
                end,
                name,
                count: 1,
                failed: u32::from(r.failed),
            });
        }
        // Running tasks: since when they were first seen.
        let mut still: HashMap<(usize, Key), f64> = HashMap::with_capacity(running.len());
        for g in &mut self.groups {
            g.local.running = 0;
        }
        self.running.clear();
        for (w, k) in running {
            let since = self
                .running_since
                .get(&(*w, k.clone()))
                .copied()
                .unwrap_or(now);
            still.insert((*w, k.clone()), since);
            let name = self.name_id(k.name());
            let row = self.row_id(0, *w as u32);
            self.groups[name as usize].local.running += 1;
            self.running.push((row, name, since));
            if busy.len() <= row as usize {
                busy.resize(row as usize + 1, 0.0);
            }
            busy[row as usize] += now - since.max(tick_start);
        }
        self.running_since = still;
        for (row, b) in busy.iter().enumerate() {
            let local = self.rows.get(row).is_some_and(|r| r.0 == 0);
            if local {
                let pct = (100.0 * b / span).clamp(0.0, 100.0);
                self.busy[row] = 0.5 * self.busy[row] + 0.5 * pct;
            }
        }
        if !records.is_empty() || !running.is_empty() {
            self.dirty.groups = true;
        }
        let from = self.dirty.bars.len();
        coalesce(&mut bars, &mut self.dirty.bars);
        for b in &self.dirty.bars[from..] {
            self.history.push_back(*b);
        }
        while self.history.len() > HISTORY {
            self.history.pop_front();
        }
        self.scratch = bars;
    }

    /// Reads this process's memory and CPU.
    pub(super) fn sample(&mut self) {
        let Some(s) = ResourceSample::now() else {
            return;
        };
        self.rss = s.rss_bytes;
        match self.cpu_base {
            // CPU time comes in 10 ms ticks: measure over 400 ms or more.
            Some(base) if s.at.saturating_duration_since(base.at).as_secs_f64() >= 0.4 => {
                let wall = s.at.saturating_duration_since(base.at).as_secs_f64();
                self.cpu = 100.0 * (s.cpu_seconds - base.cpu_seconds).max(0.0) / wall;
                self.cpu_base = Some(s);
            }
            Some(_) => {}
            None => self.cpu_base = Some(s),
        }
    }

    /// Merges what another process of a cluster reported. Its times are
    /// from its run's start, which is taken to be `run_start` here.
    pub(super) fn ingest(&mut self, d: &ProcessDigest, run_start: Instant) {
        let offset = self.ms(run_start);
        let p = d.process;
        {
            let r = self.remote.entry(p).or_default();
            if d.run < r.min_run || d.run < r.run {
                return;
            }
            r.run = d.run;
            r.rss = d.rss_bytes;
            r.cpu = d.cpu_percent;
        }
        let ids: Vec<u32> = d.names.iter().map(|n| self.name_id(n)).collect();
        let name = |i: u32| ids.get(i as usize).copied().unwrap_or(0);
        let mut counts = HashMap::new();
        for g in &d.groups {
            let c = counts.entry(name(g.name)).or_insert(Counts::default());
            c.done += g.done;
            c.failed += g.failed;
            c.running += g.running;
        }
        if let Some(r) = self.remote.get_mut(&p) {
            r.counts = counts;
        }
        let mut bars = Vec::with_capacity(d.bars.len());
        for b in &d.bars {
            let row = self.row_id(p, b.worker);
            bars.push(Bar {
                row,
                start: offset + b.start_ms,
                end: offset + b.end_ms,
                name: name(b.name),
                count: b.count,
                failed: b.failed,
            });
        }
        for (w, pct) in &d.busy {
            let row = self.row_id(p, *w);
            self.busy[row as usize] = *pct;
        }
        self.dirty.bars.extend_from_slice(&bars);
        self.history.extend(bars);
        while self.history.len() > HISTORY {
            self.history.pop_front();
        }
        if let Some((key, error)) = &d.failure {
            let new = self.failure.as_ref().is_none_or(|f| &f.key != key);
            if new {
                self.failure = Some(Failure {
                    key: key.clone(),
                    error: Some(error.clone()),
                    process: p,
                    at: self.now(),
                });
                self.dirty.failure = true;
            }
        }
        self.dirty.groups = true;
    }

    /// A group's counts over this process and the others.
    pub(super) fn counts(&self, name: u32) -> Counts {
        let mut c = self.groups[name as usize].local;
        for r in self.remote.values() {
            if let Some(rc) = r.counts.get(&name) {
                c.done += rc.done;
                c.failed += rc.failed;
                c.running += rc.running;
            }
        }
        c
    }
}
