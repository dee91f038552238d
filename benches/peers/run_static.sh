#!/usr/bin/env bash
# Static graphs beside their peers in one run: benches/static_graphs.rs
# (random 200-task DAG: static graph!, Delayed, hand-written rayon, one
# thread; the issue's shapes against their critical paths; the pipeline at
# 16 and 256 inputs) and benches/peers/pipeline.py (the pipeline in
# dask.delayed + NumPy), interleaved ROUNDS times; the median of each row is
# reported with its ratio to the row it is compared with.
#
#   bash benches/peers/run_static.sh [ROUNDS]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
rounds=${1:-5}
# shellcheck source=venv.sh
. "$here/venv.sh"
peers_venv "import dask, numpy" "dask" numpy
cd "$root"
bench_binary static_graphs
out=$(mktemp)
for r in $(seq "$rounds"); do
  echo "round $r/$rounds" >&2
  "$bin" --repeat 3 | grep '^{' >>"$out"
  "$venv/bin/python" "$here/pipeline.py" --repeat 3 >>"$out"
done
"$venv/bin/python" - "$out" <<'PY'
import json, statistics, sys, collections
rows = collections.defaultdict(list)
units = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    rows[(r["workload"], r["impl"])].append(r["value"])
    units[r["workload"]] = r["unit"]
med = {k: statistics.median(v) for k, v in rows.items()}
# What each workload's rows are divided by.
base = {"dag200-tiny": "rayon-counts", "dag200-spin": "bound", "connected": "critical-path",
        "n": "critical-path", "ladder": "critical-path", "pipeline16": "std-threads",
        "pipeline256": "std-threads"}
order = ["dag200-tiny", "dag200-spin", "connected", "n", "ladder", "pipeline16", "pipeline256"]
print(f"{'workload':<12} {'implementation':<15} {'median':>10} {'unit':<8} {'/ ' + 'base':>14}")
for w in order:
    for (wk, impl), v in sorted(med.items()):
        if wk != w:
            continue
        b = med.get((w, base[w]))
        ratio = f"{v / b:.2f}x {base[w]}" if b and impl != base[w] else ""
        print(f"{w:<12} {impl:<15} {v:>10.3f} {units[w]:<8} {ratio:>14}")
PY
rm -f "$out"
