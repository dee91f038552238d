//! A small Graphviz DOT writer shared by dynamic plans and static graphs.

use std::fmt::Write;

pub(crate) struct Dot {
    out: String,
}

impl Dot {
    pub(crate) fn new(name: &str) -> Dot {
        let mut out = String::new();
        let _ = writeln!(out, "digraph {} {{", quote(name));
        out.push_str("  rankdir=BT;\n  fontname=\"Helvetica\";\n  node [shape=box, style=rounded, fontname=\"Helvetica\"];\n");
        Dot { out }
    }

    pub(crate) fn node(&mut self, id: usize, label: &str, output: bool) {
        let extra = if output { ", peripheries=2" } else { "" };
        let _ = writeln!(self.out, "  t{id} [label={}{extra}];", quote(label));
    }

    /// A node with more attributes (`name=value, ...`, already quoted).
    pub(crate) fn node_with(&mut self, id: usize, label: &str, output: bool, attrs: &str) {
        let extra = if output { ", peripheries=2" } else { "" };
        let sep = if attrs.is_empty() { "" } else { ", " };
        let _ = writeln!(
            self.out,
            "  t{id} [label={}{extra}{sep}{attrs}];",
            quote(label)
        );
    }

    /// A line of DOT as it is (for legends).
    pub(crate) fn raw(&mut self, line: &str) {
        self.out.push_str("  ");
        self.out.push_str(line);
        self.out.push('\n');
    }

    pub(crate) fn edge(&mut self, from: usize, to: usize) {
        let _ = writeln!(self.out, "  t{from} -> t{to};");
    }

    pub(crate) fn begin_cluster(&mut self, id: usize, label: &str) {
        let _ = writeln!(
            self.out,
            "  subgraph cluster_{id} {{\n  label={}; style=dashed;",
            quote(label)
        );
    }

    pub(crate) fn end_cluster(&mut self) {
        self.out.push_str("  }\n");
    }

    pub(crate) fn finish(mut self) -> String {
        self.out.push_str("}\n");
        self.out
    }
}

/// A DOT string literal: quotes and backslashes escaped.
pub(crate) fn quote(s: &str) -> String {
    let mut q = String::with_capacity(s.len() + 2);
    q.push('"');
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                q.push('\\');
                q.push(c);
            }
            '\n' => q.push_str("\\n"),
            _ => q.push(c),
        }
    }
    q.push('"');
    q
}
