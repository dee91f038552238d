#!/usr/bin/env bash
# What a big `graph!` adds to a release build: a crate whose main holds a
# generated graph of TASKS tasks (2-3 inputs each, like benches/workloads/
# random_dag.rs) against the same crate with a one-task graph, both built
# against this checkout's `dagwood` (macros and runtime only). Dependencies
# are built once first; then each variant's own crate is rebuilt (touched),
# interleaved ROUNDS times, and the medians are printed.
#
#   bash benches/static_build/run.sh [ROUNDS] [TASKS]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
rounds=${1:-5}
tasks=${2:-200}
work=${KEEP:-$(mktemp -d)}
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
for variant in big empty; do
  mkdir -p "$work/$variant/src"
  cat >"$work/$variant/Cargo.toml" <<TOML
[package]
name = "graph-build-$variant"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
dagwood = { path = "$root", default-features = false }

[workspace]
TOML
done
python3 - "$tasks" "$work" <<'PY'
import random, sys, pathlib
tasks, work = int(sys.argv[1]), pathlib.Path(sys.argv[2])
rng = random.Random(7)
lines = ["use dagwood::prelude::*;", "",
         "fn node(i: u64, inputs: &[u64]) -> u64 { inputs.iter().fold(i, |a, x| a.rotate_left(7) ^ x) }", "",
         "fn main() {", "    let g = graph!(|seed: u64| {"]
used = set()
for t in range(tasks):
    if t < 4:
        lines.append(f"        let t{t} = node(seed + {t}, &[]);")
        continue
    deps = sorted(rng.sample(range(max(0, t - 24), t), min(rng.choice([2, 3]), t)))
    used.update(deps)
    lines.append(f"        let t{t} = node({t}, &[{', '.join(f't{d}' for d in deps)}]);")
sinks = [f"t{t}" for t in range(tasks) if t not in used]
lines += [f"        node(0, &[{', '.join(sinks)}])", "    });",
          '    println!("{}", g.run(1).unwrap_or(0));', "}"]
(work / "big/src/main.rs").write_text("\n".join(lines) + "\n")
(work / "empty/src/main.rs").write_text(
    "use dagwood::prelude::*;\n\nfn main() {\n    let g = graph!(|seed: u64| {\n"
    "        let t0 = seed + 1;\n        t0 * 2\n    });\n"
    '    println!("{}", g.run(1).unwrap_or(0));\n}\n')
PY
export CARGO_TARGET_DIR="$work/target"
for variant in big empty; do
  (cd "$work/$variant" && cargo build --release -q)
done
declare -A times
for r in $(seq "$rounds"); do
  for variant in big empty; do
    touch "$work/$variant/src/main.rs"
    start=$(date +%s.%N)
    (cd "$work/$variant" && cargo build --release -q)
    end=$(date +%s.%N)
    times[$variant]+="$(echo "$end - $start" | bc) "
  done
done
python3 - "${times[big]}" "${times[empty]}" "$tasks" <<'PY'
import statistics, sys
big = [float(x) for x in sys.argv[1].split()]
empty = [float(x) for x in sys.argv[2].split()]
mb, me = statistics.median(big), statistics.median(empty)
print(f"release build of the crate, median of {len(big)}: {sys.argv[3]}-task graph {mb:.2f} s, "
      f"one-task graph {me:.2f} s, added {mb - me:.2f} s")
PY
