//! Graph pictures: `visualize(path)` on plans, handles, static graphs and
//! collections writes the graph as DOT and, for a picture format, runs
//! Graphviz on it.
//!
//! Graphs larger than [`VisualizeOptions::max_tasks`] are drawn by layer —
//! one node per key name (one collection operation or function) labelled
//! with its task count — like Dask's high-level graph view, since Graphviz
//! takes minutes over tens of thousands of nodes and the picture would be
//! unreadable anyway.

use std::collections::HashMap;
use std::fmt::Write;
use std::path::{Path, PathBuf};

use super::{Profiler, ResourceSample, TaskRecord};
use crate::dot::Dot;
use crate::{Error, Key, Result};

/// How to draw a graph: see the `visualize_with` methods (for example
/// [`Delayed::visualize_with`](crate::Delayed::visualize_with)).
///
/// ```
/// use dagwood_runtime::diagnostics::{ColorBy, Profiler, VisualizeOptions};
/// let prof = Profiler::new();
/// let opts = VisualizeOptions::new().max_tasks(500).color_by(ColorBy::Duration(&prof));
/// assert_eq!(opts.max_tasks, 500);
/// assert_eq!(VisualizeOptions::new().max_tasks, VisualizeOptions::DEFAULT_MAX_TASKS);
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct VisualizeOptions<'a> {
    /// Graphs with more tasks are summarised by layer (one node per key
    /// name); 0 always summarises, `usize::MAX` never does.
    pub max_tasks: usize,
    /// Colour tasks (or layers) by a measurement from a profiler.
    pub color_by: Option<ColorBy<'a>>,
    /// The Graphviz program run for pictures (`dot` unless set).
    pub program: String,
}

/// What to colour a graph's nodes by, from a [`Profiler`] that watched the
/// graph run (tasks are matched by key).
///
/// ```
/// use dagwood_runtime::diagnostics::{ColorBy, Profiler, VisualizeOptions};
/// use dagwood_runtime::delayed;
/// let x = delayed(3).map("square", |v: &i32| v * v);
/// let prof = Profiler::new();
/// prof.run(|| x.compute()).unwrap();
/// let path = std::env::temp_dir().join("dagwood-doc-colour.dot");
/// x.visualize_with(&path, &VisualizeOptions::new().color_by(ColorBy::Duration(&prof))).unwrap();
/// assert!(std::fs::read_to_string(&path).unwrap().contains("fillcolor"));
/// ```
#[derive(Clone, Copy, Debug)]
pub enum ColorBy<'a> {
    /// How long each task ran (its mean, if it ran several times); a layer
    /// shows the sum over its tasks.
    Duration(&'a Profiler),
    /// The process's resident memory when each task ended, from the
    /// profiler's attached [`ResourceProfiler`](super::ResourceProfiler); a
    /// layer shows the largest over its tasks.
    Memory(&'a Profiler),
}

/// What a `visualize` call wrote.
///
/// ```
/// use dagwood_runtime::delayed;
/// let x = delayed(1).map("inc", |v: &i32| v + 1);
/// let files = x.visualize(std::env::temp_dir().join("dagwood-doc-files.dot")).unwrap();
/// assert!(files.image.is_none() && files.layers.is_none());
/// assert_eq!(files.tasks, 2);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct GraphFiles {
    /// The DOT file (always written).
    pub dot: PathBuf,
    /// The picture Graphviz drew, when one was asked for.
    pub image: Option<PathBuf>,
    /// Tasks in the graph.
    pub tasks: usize,
    /// `Some(number of layers)` when the graph was summarised by layer.
    pub layers: Option<usize>,
}

impl Default for VisualizeOptions<'_> {
    fn default() -> Self {
        VisualizeOptions {
            max_tasks: Self::DEFAULT_MAX_TASKS,
            color_by: None,
            program: "dot".to_string(),
        }
    }
}

impl<'a> VisualizeOptions<'a> {
    /// Graphs of more tasks than this are summarised by layer by default.
    ///
    /// ```
    /// use dagwood_runtime::diagnostics::VisualizeOptions;
    /// assert_eq!(VisualizeOptions::DEFAULT_MAX_TASKS, 2000);
    /// ```
    pub const DEFAULT_MAX_TASKS: usize = 2000;

    /// The defaults: summarise above 2000 tasks, no colours, Graphviz's `dot`.
    ///
    /// ```
    /// let opts = dagwood_runtime::diagnostics::VisualizeOptions::new();
    /// assert_eq!(opts.program, "dot");
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Summarises graphs of more than `n` tasks by layer.
    ///
    /// ```
    /// let always = dagwood_runtime::diagnostics::VisualizeOptions::new().max_tasks(0);
    /// assert_eq!(always.max_tasks, 0);
    /// ```
    pub fn max_tasks(mut self, n: usize) -> Self {
        self.max_tasks = n;
        self
    }

    /// Colours nodes by a measurement.
    ///
    /// ```
    /// use dagwood_runtime::diagnostics::{ColorBy, Profiler, VisualizeOptions};
    /// let prof = Profiler::new();
    /// let opts = VisualizeOptions::new().color_by(ColorBy::Memory(&prof));
    /// assert!(opts.color_by.is_some());
    /// ```
    pub fn color_by(mut self, by: ColorBy<'a>) -> Self {
        self.color_by = Some(by);
        self
    }

    /// Runs this Graphviz program (a name on `PATH` or a path) instead of `dot`.
    ///
    /// ```
    /// let opts = dagwood_runtime::diagnostics::VisualizeOptions::new().program("/opt/graphviz/bin/dot");
    /// assert_eq!(opts.program, "/opt/graphviz/bin/dot");
    /// ```
    pub fn program(mut self, program: impl Into<String>) -> Self {
        self.program = program.into();
        self
    }
}

/// One node of a graph to draw.
pub(crate) struct ViewNode {
    pub(crate) key: Key,
    pub(crate) output: bool,
    /// Nodes with the same cluster id are boxed together (a fused chain).
    pub(crate) cluster: Option<usize>,
}

/// A graph to draw, from a plan or a static graph's shape. Clustered nodes
/// are consecutive.
pub(crate) struct GraphView {
    pub(crate) name: &'static str,
    pub(crate) nodes: Vec<ViewNode>,
    pub(crate) edges: Vec<(usize, usize)>,
}

/// A measurement per node, with how to show it.
struct Measure {
    values: Vec<Option<f64>>,
    what: &'static str,
    unit: Unit,
}

#[derive(Clone, Copy)]
enum Unit {
    Seconds,
    Bytes,
}

impl Unit {
    fn show(self, v: f64) -> String {
        match self {
            Unit::Seconds => human_seconds(v),
            Unit::Bytes => format!("{:.1} MB", v / 1e6),
        }
    }
}

pub(crate) fn human_seconds(s: f64) -> String {
    if s < 1e-3 {
        format!("{:.0} µs", s * 1e6)
    } else if s < 1.0 {
        format!("{:.1} ms", s * 1e3)
    } else {
        format!("{s:.2} s")
    }
}

/// ColorBrewer's YlOrRd: light for small values, dark red for the largest.
const SCALE: [&str; 9] = [
    "#ffffcc", "#ffeda0", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#bd0026",
    "#800026",
];

fn shade(fraction: f64) -> (&'static str, &'static str) {
    let i = ((fraction.clamp(0.0, 1.0) * (SCALE.len() - 1) as f64).round()) as usize;
    let font = if i >= 6 { "white" } else { "black" };
    (SCALE[i.min(SCALE.len() - 1)], font)
}

impl GraphView {
    /// Writes the DOT file and, for a picture format, the picture.
    pub(crate) fn write(&self, path: &Path, opts: &VisualizeOptions<'_>) -> Result<GraphFiles> {
        let (text, layers) = self.dot(opts);
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        let (dot_path, format) = match ext.as_deref() {
            Some("dot") | Some("gv") => (path.to_path_buf(), None),
            None => (path.with_extension("dot"), None),
            Some(format) => (path.with_extension("dot"), Some(format.to_string())),
        };
        std::fs::write(&dot_path, text).map_err(|source| Error::Io {
            path: dot_path.clone(),
            source,
        })?;
        if let Some(format) = &format {
            render(&opts.program, format, &dot_path, path)?;
        }
        Ok(GraphFiles {
            dot: dot_path,
            image: format.map(|_| path.to_path_buf()),
            tasks: self.nodes.len(),
            layers,
        })
    }

    /// The DOT text, and the number of layers if summarised.
    pub(crate) fn dot(&self, opts: &VisualizeOptions<'_>) -> (String, Option<usize>) {
        let measure = opts.color_by.map(|by| self.measure(by));
        if self.nodes.len() > opts.max_tasks {
            let (text, layers) = self.layers_dot(measure.as_ref());
            (text, Some(layers))
        } else {
            (self.tasks_dot(measure.as_ref()), None)
        }
    }

    fn tasks_dot(&self, measure: Option<&Measure>) -> String {
        let mut dot = Dot::new(self.name);
        let max = measure.map_or(0.0, |m| max_of(&m.values));
        let mut open: Option<usize> = None;
        for (i, n) in self.nodes.iter().enumerate() {
            if open.is_some() && open != n.cluster {
                dot.end_cluster();
                open = None;
            }
            if open.is_none() {
                if let Some(c) = n.cluster {
                    dot.begin_cluster(c, "fused");
                    open = Some(c);
                }
            }
            let mut label = n.key.to_string();
            let attrs = match measure {
                Some(m) => colour_attrs(m, m.values[i], max, &mut label),
                None => String::new(),
            };
            dot.node_with(i, &label, n.output, &attrs);
        }
        if open.is_some() {
            dot.end_cluster();
        }
        for &(a, b) in &self.edges {
            dot.edge(a, b);
        }
        if let Some(m) = measure {
            legend(&mut dot, m, max);
        }
        dot.finish()
    }

    fn layers_dot(&self, measure: Option<&Measure>) -> (String, usize) {
        let (summary, layer_of) = super::summary::summarise(
            self.nodes.iter().map(|n| (&n.key, n.output)),
            self.edges.iter().copied(),
        );
        let mut values: Vec<Option<f64>> = vec![None; summary.layers.len()];
        if let Some(m) = measure {
            for (i, &l) in layer_of.iter().enumerate() {
                if let Some(v) = m.values[i] {
                    values[l] = Some(match (m.unit, values[l]) {
                        // Time adds up over a layer's tasks; memory is a level.
                        (Unit::Seconds, Some(sum)) => sum + v,
                        (_, Some(top)) => top.max(v),
                        (_, None) => v,
                    });
                }
            }
        }
        let mut dot = Dot::new(self.name);
        let max = max_of(&values);
        for (l, layer) in summary.layers.iter().enumerate() {
            let tasks = if layer.tasks == 1 { "task" } else { "tasks" };
            let mut label = format!("{}\n{} {tasks}", layer.name, layer.tasks);
            let attrs = match measure {
                Some(m) => colour_attrs(m, values[l], max, &mut label),
                None => String::new(),
            };
            dot.node_with(l, &label, layer.output, &attrs);
        }
        // Edges inside a layer (the levels of a tree reduction) are
        // implied by its task count.
        for &(la, lb) in &summary.edges {
            dot.edge(la, lb);
        }
        if let Some(m) = measure {
            let summed = Measure {
                values,
                what: match m.unit {
                    Unit::Seconds => "total task time per layer",
                    Unit::Bytes => "largest process memory per layer",
                },
                unit: m.unit,
            };
            legend(&mut dot, &summed, max);
        }
        (dot.finish(), summary.layers.len())
    }

    fn measure(&self, by: ColorBy<'_>) -> Measure {
        match by {
            ColorBy::Duration(prof) => {
                let mut per_key: HashMap<Key, (f64, u32)> = HashMap::new();
                for r in prof.records() {
                    let e = per_key.entry(r.key.clone()).or_insert((0.0, 0));
                    e.0 += r.duration().as_secs_f64();
                    e.1 += 1;
                }
                Measure {
                    values: self
                        .nodes
                        .iter()
                        .map(|n| per_key.get(&n.key).map(|&(s, c)| s / f64::from(c)))
                        .collect(),
                    what: "task duration",
                    unit: Unit::Seconds,
                }
            }
            ColorBy::Memory(prof) => {
                let samples = prof.samples();
                let mut per_key: HashMap<Key, f64> = HashMap::new();
                for r in prof.records() {
                    if let Some(rss) = memory_at(&samples, &r) {
                        let e = per_key.entry(r.key.clone()).or_insert(0.0);
                        *e = e.max(rss);
                    }
                }
                Measure {
                    values: self
                        .nodes
                        .iter()
                        .map(|n| per_key.get(&n.key).copied())
                        .collect(),
                    what: "process memory when the task ended",
                    unit: Unit::Bytes,
                }
            }
        }
    }
}

/// Resident memory at the end of a task: the last sample taken by then (or
/// the first one after, for a task that ended before any sample).
fn memory_at(samples: &[ResourceSample], r: &TaskRecord) -> Option<f64> {
    let after = samples.partition_point(|s| s.at <= r.end);
    let s = if after > 0 {
        samples.get(after - 1)
    } else {
        samples.first()
    };
    s.map(|s| s.rss_bytes as f64)
}

fn max_of(values: &[Option<f64>]) -> f64 {
    values.iter().flatten().fold(0.0, |a: f64, &b| a.max(b))
}

/// Fill and font for a measured node, and its value added to the label.
fn colour_attrs(m: &Measure, value: Option<f64>, max: f64, label: &mut String) -> String {
    match value {
        Some(v) => {
            let (fill, font) = shade(if max > 0.0 { v / max } else { 0.0 });
            label.push('\n');
            label.push_str(&m.unit.show(v));
            format!("style=\"rounded,filled\", fillcolor=\"{fill}\", fontcolor=\"{font}\"")
        }
        // Not seen by the profiler (not run while it was active).
        None => "style=\"rounded,dashed\"".to_string(),
    }
}

/// A key to the colours: the scale from 0 to the largest value.
fn legend(dot: &mut Dot, m: &Measure, max: f64) {
    let mut cells = String::new();
    for (i, colour) in SCALE.iter().enumerate().step_by(2) {
        let v = max * i as f64 / (SCALE.len() - 1) as f64;
        let font = if i >= 6 { "white" } else { "black" };
        let _ = write!(
            cells,
            "<td bgcolor=\"{colour}\"><font color=\"{font}\">{}</font></td>",
            html_escape(&m.unit.show(v))
        );
    }
    let title = html_escape(&format!("colour: {}", m.what));
    dot.raw(&format!(
        "legend [shape=plaintext, style=\"\", label=<<table border=\"0\" cellborder=\"1\" \
         cellspacing=\"0\" cellpadding=\"4\"><tr><td colspan=\"5\">{title}</td></tr><tr>{cells}</tr></table>>];"
    ));
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Runs Graphviz: `program -T<format> -o <image> <dot>`.
fn render(program: &str, format: &str, dot: &Path, image: &Path) -> Result<()> {
    let output = std::process::Command::new(program)
        .arg(format!("-T{format}"))
        .arg("-o")
        .arg(image)
        .arg(dot)
        .output();
    match output {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(Error::GraphvizMissing {
            program: program.to_string(),
            path: image.to_path_buf(),
            dot: dot.to_path_buf(),
        }),
        Err(e) => Err(Error::Graphviz {
            program: program.to_string(),
            path: image.to_path_buf(),
            dot: dot.to_path_buf(),
            message: e.to_string(),
        }),
        Ok(out) if !out.status.success() => Err(Error::Graphviz {
            program: program.to_string(),
            path: image.to_path_buf(),
            dot: dot.to_path_buf(),
            message: format!(
                "{}: {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        }),
        Ok(_) => Ok(()),
    }
}
