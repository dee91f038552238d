//! Diagnostics: callbacks into every computation, and what is built on them.
//!
//! * [`ProgressBar`] / [`with_progress`]: tasks done of the total on stderr
//!   (Dask's `ProgressBar`);
//! * [`Profiler`]: key, worker, start and end of every task, as data, as a
//!   Chrome trace and as a timeline picture, with process memory and CPU from
//!   a [`ResourceProfiler`] (Dask's `Profiler` and `ResourceProfiler`);
//! * [`VisualizeOptions`]: options for the `visualize` methods that draw a
//!   graph with Graphviz, task by task or summarised by layer;
//! * `Dashboard` (the runtime's feature `dashboard`, which `dagwood`'s `diagnostics` turns on): a live page in the browser while a
//!   program runs (Dask's dashboard on `:8787`), see its module;
//! * [`Callback`]: the hooks all of them use, open to your own, and
//!   [`Reporter`] for executors outside this crate.
//!
//! The runtime also opens `tracing` spans named `dagwood.optimize`,
//! `dagwood.execute` and `dagwood.run_static` around optimisation and
//! execution, for any `tracing` subscriber.
//!
//! The progress bar and the timeline picture need the feature `diagnostics`
//! (on by default); the rest is always there.
//!
//! ```
//! # #[cfg(feature = "diagnostics")] {
//! use dagwood_runtime::diagnostics::{with_progress, Profiler, ResourceProfiler};
//! use dagwood_runtime::{delayed, sum};
//!
//! let total = sum((0..100).map(|i| delayed(i).map("square", |v: &i64| v * v)), 8).unwrap();
//! // A progress bar on stderr for one call (drawn only on a terminal).
//! assert_eq!(with_progress(|| total.compute()).unwrap(), 328_350);
//! // A profile of the same computation, with memory and CPU samples.
//! let prof = Profiler::new().with_resources(ResourceProfiler::new());
//! prof.run(|| total.compute()).unwrap();
//! assert!(prof.records().len() > 200);
//! let dir = std::env::temp_dir();
//! prof.write_timeline_svg(dir.join("dagwood-doc-mod-profile.svg")).unwrap();
//! prof.write_chrome_trace(dir.join("dagwood-doc-mod-trace.json")).unwrap();
//! // The graph as DOT (and SVG, where Graphviz is installed).
//! total.visualize(dir.join("dagwood-doc-mod-graph.dot")).unwrap();
//! # }
//! ```

mod callback;
#[cfg(feature = "dashboard")]
mod dashboard;
mod profiler;
#[cfg(feature = "diagnostics")]
mod progress;
mod resource;
mod summary;
#[cfg(feature = "diagnostics")]
mod timeline;
mod trace;
mod visualize;

pub use callback::{
    register_global, scoped_callback, Callback, GlobalCallback, Reporter, ScopedCallback, TaskEvent,
};
#[cfg(feature = "dashboard")]
pub use dashboard::{
    Collector, Dashboard, DashboardError, DigestBar, DigestGroup, ProcessDigest, DEFAULT_ADDRESS,
};
pub use profiler::{Profiler, TaskRecord};
#[cfg(feature = "diagnostics")]
pub use progress::{with_progress, ProgressBar, ProgressState};
pub use resource::{ResourceProfiler, ResourceSample};
pub use summary::{GraphSummary, LayerSummary};
pub use visualize::{ColorBy, GraphFiles, VisualizeOptions};

pub(crate) use callback::{observe, set_client_worker, CallbackFault, Hooks};
pub(crate) use visualize::{GraphView, ViewNode};
