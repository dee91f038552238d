//! A [`Profiler`]'s records as a timeline picture (SVG, drawn with
//! plotters): one row per worker, a bar per task coloured by the task's
//! name with a legend beside, and the process's memory and CPU under it when
//! a [`ResourceProfiler`](super::ResourceProfiler) is attached.

use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{Profiler, ResourceSample, TaskRecord};
use crate::{Error, Result};

/// Picture width in pixels; the legend takes the right-hand column.
const WIDTH: u32 = 1200;
const LEGEND_WIDTH: u32 = 230;
/// Names beyond this many share one grey colour, listed as "other".
const NAMED_COLOURS: usize = 12;

/// Tableau's 20 colours, strong ones first: distinct for the most costly names.
const PALETTE: [RGBColor; NAMED_COLOURS] = [
    RGBColor(0x4e, 0x79, 0xa7),
    RGBColor(0xf2, 0x8e, 0x2b),
    RGBColor(0xe1, 0x57, 0x59),
    RGBColor(0x76, 0xb7, 0xb2),
    RGBColor(0x59, 0xa1, 0x4f),
    RGBColor(0xed, 0xc9, 0x48),
    RGBColor(0xb0, 0x7a, 0xa1),
    RGBColor(0xff, 0x9d, 0xa7),
    RGBColor(0x9c, 0x75, 0x5f),
    RGBColor(0xa0, 0xcb, 0xe8),
    RGBColor(0x8c, 0xd1, 0x7d),
    RGBColor(0xd4, 0xa6, 0xc8),
];
const OTHER: RGBColor = RGBColor(0xba, 0xb0, 0xac);
const MEMORY_COLOUR: RGBColor = RGBColor(0x1f, 0x77, 0xb4);
const CPU_COLOUR: RGBColor = RGBColor(0xd6, 0x27, 0x28);

/// Seconds as the axis shows them: a unit that keeps labels short.
struct TimeUnit {
    name: &'static str,
    per_second: f64,
}

fn time_unit(span_seconds: f64) -> TimeUnit {
    if span_seconds < 2e-3 {
        TimeUnit {
            name: "µs",
            per_second: 1e6,
        }
    } else if span_seconds < 2.0 {
        TimeUnit {
            name: "ms",
            per_second: 1e3,
        }
    } else {
        TimeUnit {
            name: "s",
            per_second: 1.0,
        }
    }
}

/// An axis label with as few decimals as the axis's range needs.
fn axis_number(v: f64, range: f64) -> String {
    if range >= 20.0 {
        format!("{v:.0}")
    } else if range >= 2.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

fn plot_error(e: impl std::fmt::Display) -> Error {
    // The SVG backend draws into a String: it has no I/O that could fail, so
    // an error here is a bug in the drawing code.
    Error::Internal(format!("drawing the timeline: {e}"))
}

/// One bar to draw: tasks of one name on one worker that touch at the
/// picture's resolution are merged, so a million tiny tasks make at most a
/// few thousand rectangles.
struct Bar {
    row: usize,
    colour: usize,
    start: f64,
    end: f64,
}

impl Profiler {
    /// The timeline picture as SVG text (see
    /// [`write_timeline_svg`](Self::write_timeline_svg)).
    ///
    /// ```
    /// use dagwood_runtime::diagnostics::Profiler;
    /// use dagwood_runtime::delayed;
    /// let prof = Profiler::new();
    /// prof.run(|| delayed(1).map("inc", |v: &i32| v + 1).compute()).unwrap();
    /// let svg = prof.timeline_svg().unwrap();
    /// assert!(svg.contains("<svg") && svg.contains("worker 0") && svg.contains("inc"));
    /// ```
    pub fn timeline_svg(&self) -> Result<String> {
        let records = self.records();
        let samples = self.samples();
        let mut svg = String::new();
        {
            let resources_height = if samples.is_empty() { 0 } else { 240 };
            let workers = distinct_workers(&records);
            // Tall enough for the rows, and for the legend beside them.
            let names = colours(&records).0.len().min(NAMED_COLOURS + 1) as u32;
            let resources_legend = if samples.is_empty() { 0 } else { 64 };
            let legend_height = 60 + 24 * names + resources_legend;
            let rows_height = (90 + 34 * workers.len() as u32)
                .max(220)
                .max(legend_height.saturating_sub(resources_height));
            let height = rows_height + resources_height + 50;
            let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
            root.fill(&WHITE).map_err(plot_error)?;
            draw(&root, &records, &samples, &workers, rows_height)?;
            root.present().map_err(plot_error)?;
        }
        Ok(svg)
    }

    /// Writes the timeline picture to `path` as SVG: one row per worker, a
    /// bar per task coloured by its name ([`Key::name`](crate::Key::name))
    /// with a legend, and, with a
    /// [`ResourceProfiler`](super::ResourceProfiler) attached, the process's
    /// memory and CPU over the same time below.
    ///
    /// ```
    /// use dagwood_runtime::diagnostics::{Profiler, ResourceProfiler};
    /// use dagwood_runtime::{delayed, sum};
    /// let prof = Profiler::new().with_resources(ResourceProfiler::new());
    /// let total = sum((0..50).map(|i| delayed(i).map("square", |v: &i64| v * v)), 5).unwrap();
    /// prof.run(|| total.compute()).unwrap();
    /// let path = std::env::temp_dir().join("dagwood-doc-timeline.svg");
    /// prof.write_timeline_svg(&path).unwrap();
    /// assert!(std::fs::read_to_string(&path).unwrap().contains("square"));
    /// ```
    pub fn write_timeline_svg(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let svg = self.timeline_svg()?;
        std::fs::write(path, svg).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })
    }
}

fn distinct_workers(records: &[TaskRecord]) -> Vec<usize> {
    let mut w: Vec<usize> = records.iter().map(|r| r.worker).collect();
    w.sort_unstable();
    w.dedup();
    if w.is_empty() {
        w.push(0);
    }
    w
}

/// Names by total time, most costly first, with their colour index
/// (`NAMED_COLOURS` = "other").
fn colours(records: &[TaskRecord]) -> (Vec<(String, f64)>, HashMap<&str, usize>) {
    let mut total: HashMap<&str, f64> = HashMap::new();
    for r in records {
        *total.entry(r.key.name()).or_insert(0.0) += r.duration().as_secs_f64();
    }
    let mut names: Vec<(&str, f64)> = total.into_iter().collect();
    names.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
    let index = names
        .iter()
        .enumerate()
        .map(|(i, (n, _))| (*n, i.min(NAMED_COLOURS)))
        .collect();
    let legend = names.iter().map(|(n, t)| (n.to_string(), *t)).collect();
    (legend, index)
}

fn draw(
    root: &DrawingArea<SVGBackend<'_>, Shift>,
    records: &[TaskRecord],
    samples: &[ResourceSample],
    workers: &[usize],
    rows_height: u32,
) -> Result<()> {
    let origin = Profiler::origin(records, samples);
    let secs = |t: Instant| t.saturating_duration_since(origin).as_secs_f64();
    let span = records
        .iter()
        .map(|r| secs(r.end))
        .chain(samples.iter().map(|s| secs(s.at)))
        .fold(0.0, f64::max)
        .max(1e-6);
    let unit = time_unit(span);
    let x_max = span * unit.per_second * 1.02;

    let total_busy: f64 = records.iter().map(|r| r.duration().as_secs_f64()).sum();
    let title = format!(
        "{} tasks on {} worker{} in {} ({:.0}% busy)",
        records.len(),
        workers.len(),
        if workers.len() == 1 { "" } else { "s" },
        super::visualize::human_seconds(span),
        100.0 * total_busy / (span * workers.len() as f64)
    );
    let (header, body) = root.split_vertically(40);
    header
        .draw(&Text::new(
            title,
            (70, 12),
            ("sans-serif", 20).into_font().color(&BLACK),
        ))
        .map_err(plot_error)?;
    let (charts, legend_area) = body.split_horizontally(WIDTH - LEGEND_WIDTH);
    let (rows_area, resources_area) = charts.split_vertically(rows_height);

    // Tasks, one row per worker (top row = lowest worker index).
    let (names, colour_of) = colours(records);
    let row_of: HashMap<usize, usize> = workers.iter().enumerate().map(|(i, &w)| (w, i)).collect();
    let rows = workers.len();
    // Row r spans [rows - r - 1, rows - r]: worker 0 on top.
    let mut chart = ChartBuilder::on(&rows_area)
        .margin(10)
        .margin_right(20)
        .x_label_area_size(40)
        .y_label_area_size(80)
        // As wide as the resource chart's CPU axis, so both time axes line up.
        .right_y_label_area_size(60)
        .build_cartesian_2d(0.0..x_max, 0.0..rows as f64)
        .map_err(plot_error)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(0)
        .x_desc(format!("time ({})", unit.name))
        .x_label_formatter(&|v| axis_number(*v, x_max))
        .x_label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 15))
        .draw()
        .map_err(plot_error)?;
    // Worker names centred on their rows, beside the axis (plotters puts
    // axis labels on its own even ticks, not on row middles).
    let base = rows_area.get_base_pixel();
    let label_style = ("sans-serif", 14)
        .into_font()
        .color(&BLACK)
        .pos(Pos::new(HPos::Right, VPos::Center));
    for (r, w) in workers.iter().enumerate() {
        let (x, y) = chart.backend_coord(&(0.0, (rows - r) as f64 - 0.5));
        rows_area
            .draw(&Text::new(
                format!("worker {w}"),
                (x - base.0 - 8, y - base.1),
                label_style.clone(),
            ))
            .map_err(plot_error)?;
    }
    let pixels = f64::from(WIDTH - LEGEND_WIDTH - 110);
    let merge_gap = x_max / pixels;
    let mut bars: Vec<Bar> = Vec::new();
    let mut sorted: Vec<&TaskRecord> = records.iter().collect();
    sorted.sort_by_key(|r| (r.worker, r.start));
    for r in sorted {
        let row = row_of.get(&r.worker).copied().unwrap_or(0);
        let colour = colour_of
            .get(r.key.name())
            .copied()
            .unwrap_or(NAMED_COLOURS);
        let (start, end) = (
            secs(r.start) * unit.per_second,
            secs(r.end) * unit.per_second,
        );
        match bars.last_mut() {
            Some(b) if b.row == row && b.colour == colour && start - b.end <= merge_gap => {
                b.end = b.end.max(end)
            }
            _ => bars.push(Bar {
                row,
                colour,
                start,
                end,
            }),
        }
    }
    chart
        .draw_series(bars.iter().map(|b| {
            let colour = PALETTE.get(b.colour).copied().unwrap_or(OTHER);
            // Top row is worker 0: rows count down from the top.
            let top = (rows - b.row) as f64 - 0.12;
            let bottom = (rows - b.row - 1) as f64 + 0.12;
            // Keep tasks shorter than a pixel visible.
            let end = b.end.max(b.start + merge_gap);
            Rectangle::new([(b.start, top), (end, bottom)], colour.filled())
        }))
        .map_err(plot_error)?;

    draw_legend(&legend_area, &names)?;

    if !samples.is_empty() {
        draw_resources(&resources_area, samples, &secs, &unit, x_max)?;
        // Beside the resource chart, or under the task names if they reach lower.
        let shown = names.len().min(NAMED_COLOURS + 1) as i32;
        let top = (rows_height as i32 + 20).max(40 + 24 * shown + 16);
        draw_resources_legend(&legend_area, top)?;
    }
    Ok(())
}

fn draw_legend(area: &DrawingArea<SVGBackend<'_>, Shift>, names: &[(String, f64)]) -> Result<()> {
    let style = ("sans-serif", 14).into_font().color(&BLACK);
    area.draw(&Text::new(
        "task name (total time)",
        (0, 14),
        ("sans-serif", 15).into_font().color(&BLACK),
    ))
    .map_err(plot_error)?;
    let shown = names.len().min(NAMED_COLOURS);
    let mut y = 40;
    for (i, (name, total)) in names.iter().take(shown).enumerate() {
        draw_swatch(area, y, PALETTE[i], &short(name), *total, &style)?;
        y += 24;
    }
    if names.len() > shown {
        let rest: f64 = names[shown..].iter().map(|(_, t)| t).sum();
        let label = format!("{} others", names.len() - shown);
        draw_swatch(area, y, OTHER, &label, rest, &style)?;
    }
    Ok(())
}

/// Names longer than the legend column are cut with an ellipsis.
fn short(name: &str) -> String {
    const MAX: usize = 18;
    if name.chars().count() <= MAX {
        name.to_string()
    } else {
        let cut: String = name.chars().take(MAX - 1).collect();
        format!("{cut}…")
    }
}

fn draw_swatch(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    y: i32,
    colour: RGBColor,
    label: &str,
    total: f64,
    style: &TextStyle<'_>,
) -> Result<()> {
    area.draw(&Rectangle::new([(0, y), (16, y + 16)], colour.filled()))
        .map_err(plot_error)?;
    area.draw(&Text::new(
        format!("{label} ({})", super::visualize::human_seconds(total)),
        (24, y + 1),
        style.clone(),
    ))
    .map_err(plot_error)
}

fn draw_resources(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    samples: &[ResourceSample],
    secs: &dyn Fn(Instant) -> f64,
    unit: &TimeUnit,
    x_max: f64,
) -> Result<()> {
    let mb: Vec<(f64, f64)> = samples
        .iter()
        .map(|s| (secs(s.at) * unit.per_second, s.rss_bytes as f64 / 1e6))
        .collect();
    let cpu: Vec<(f64, f64)> = samples
        .iter()
        // A first sample has no CPU use yet (nothing to compare with).
        .skip_while(|s| s.cpu_percent == 0.0)
        .map(|s| (secs(s.at) * unit.per_second, s.cpu_percent))
        .collect();
    let mb_max = mb.iter().map(|p| p.1).fold(0.0, f64::max).max(1.0) * 1.15;
    let cpu_max = cpu.iter().map(|p| p.1).fold(100.0, f64::max) * 1.1;
    let mut chart = ChartBuilder::on(area)
        .margin(10)
        .margin_right(20)
        .x_label_area_size(40)
        .y_label_area_size(80)
        .right_y_label_area_size(60)
        .build_cartesian_2d(0.0..x_max, 0.0..mb_max)
        .map_err(plot_error)?
        .set_secondary_coord(0.0..x_max, 0.0..cpu_max);
    chart
        .configure_mesh()
        .y_desc("memory (MB)")
        .x_desc(format!("time ({})", unit.name))
        .x_label_formatter(&|v| axis_number(*v, x_max))
        .y_label_formatter(&|v| axis_number(*v, mb_max))
        .y_labels(5)
        .x_label_style(("sans-serif", 14))
        .y_label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 15))
        .light_line_style(WHITE)
        .draw()
        .map_err(plot_error)?;
    chart
        .configure_secondary_axes()
        .y_desc("CPU (%)")
        .y_label_formatter(&|v| axis_number(*v, cpu_max))
        .y_labels(5)
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 15))
        .draw()
        .map_err(plot_error)?;
    let memory = MEMORY_COLOUR;
    chart
        .draw_series(
            AreaSeries::new(mb.iter().copied(), 0.0, memory.mix(0.2))
                .border_style(memory.stroke_width(2)),
        )
        .map_err(plot_error)?;
    chart
        .draw_secondary_series(LineSeries::new(
            cpu.iter().copied(),
            CPU_COLOUR.stroke_width(1),
        ))
        .map_err(plot_error)?;
    Ok(())
}

/// The key to the resource chart, in the legend column beside it (inside
/// the chart it would hide the start of the curves).
fn draw_resources_legend(area: &DrawingArea<SVGBackend<'_>, Shift>, top: i32) -> Result<()> {
    let style = ("sans-serif", 14).into_font().color(&BLACK);
    for (i, (colour, width, label)) in [
        (MEMORY_COLOUR, 2, "memory (resident set)"),
        (CPU_COLOUR, 1, "CPU (100% = one core)"),
    ]
    .into_iter()
    .enumerate()
    {
        let y = top + 24 * i as i32;
        area.draw(&PathElement::new(
            [(0, y + 8), (16, y + 8)],
            colour.stroke_width(width),
        ))
        .map_err(plot_error)?;
        area.draw(&Text::new(label, (24, y + 1), style.clone()))
            .map_err(plot_error)?;
    }
    Ok(())
}
