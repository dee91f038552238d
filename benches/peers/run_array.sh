#!/usr/bin/env bash
# The fractal (seed notebook's Mandelbrot, 4000 x 6000) by dagwood arrays
# beside NumPy and dask.array on this machine, in one run: the Rust report
# (benches/peers_array.rs: dagwood kernel and array, hand-written Rust) and
# fractal.py (NumPy, dask.array) are interleaved ROUNDS times and the median
# of each is reported with its ratio to dagwood, in wall time and in CPU time
# (steadier than wall time on a machine shared with other work).
#
#   bash benches/peers/run_array.sh [ROUNDS]
#
# RUSTFLAGS and CARGO_TARGET_DIR pass through to cargo, e.g.
#   RUSTFLAGS="-C target-cpu=native" CARGO_TARGET_DIR=target/native bash benches/peers/run_array.sh
# Uses the virtualenv benches/peers/.venv (created if missing) and installs
# numpy and dask[array] into it when they are missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
rounds=${1:-5}
# shellcheck source=venv.sh
. "$here/venv.sh"
peers_venv "import numpy, dask.array" "numpy" "dask[array]"
cd "$root"
bench_binary peers_array
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for r in $(seq "$rounds"); do
  echo "round $r/$rounds" >&2
  # The Rust report checks every version against the sequential loop in the
  # first round and times the slow single-threaded version there only.
  if [ "$r" = 1 ]; then
    args=()
  else
    args=(--no-check --only dagwood-kernel,dagwood-array,numpy-style-threads,numpy-style-rayon,handwritten)
  fi
  # Both sides: each version runs once unmeasured (checked against the
  # reference picture; it also warms caches, pools and the allocator), then
  # --repeat 3 measured runs whose median is reported; every picture's
  # checksum is compared below.
  "$bin" --repeat 3 "${args[@]}" | grep '^{' >>"$out"
  if [ "$r" = 1 ]; then
    "$venv/bin/python" "$here/fractal.py" --repeat 3 >>"$out"
  else
    "$venv/bin/python" "$here/fractal.py" --repeat 3 --only numpy-strips-threads,dask-where,dask-map-blocks >>"$out"
  fi
done
"$venv/bin/python" - "$out" <<'PY'
import collections, json, statistics, sys
rows = collections.defaultdict(list)
sums = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    rows[r["impl"]].append((r["seconds"], r["cpu_seconds"]))
    sums.setdefault((r["checksum"], r["zeros"]), set()).add(r["impl"])
if len(sums) != 1:
    sys.exit(f"the pictures differ: {sums}")
med = {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v)) for k, v in rows.items()}
base_name = "dagwood-kernel" if "dagwood-kernel" in med else "dagwood-array"
base = med[base_name]
print(f"median of {max(len(v) for v in rows.values())} interleaved rounds (each round's number is itself the median of 3 warm runs)")
print(f"{'implementation':<22} {'wall s':>8} {'CPU s':>8} {'wall / ' + base_name:>22} {'CPU / ' + base_name:>21}  rounds")
for impl, (w, c) in sorted(med.items(), key=lambda kv: kv[1][0]):
    print(f"{impl:<22} {w:8.3f} {c:8.2f} {w / base[0]:21.2f}x {c / base[1]:20.2f}x  {len(rows[impl])}")
print(f"all {sum(len(v) for v in rows.values())} pictures equal (checksum {next(iter(sums))})")
print("targets (medians):")
for dag in ["dagwood-kernel", "dagwood-array"]:
    if dag not in med:
        continue
    for name, want in [("dask-where", 8.0), ("dask-map-blocks", 2.5)]:
        if name in med:
            for kind, i in [("wall", 0), ("CPU", 1)]:
                got = med[name][i] / med[dag][i]
                print(f"  {dag} {kind:>4}: {got:.2f}x faster than {name} (target >= {want}x: {'met' if got >= want else 'missed'})")
    for name, want in [("numpy-style-threads", 0.8), ("handwritten", 1.15)]:
        if name in med:
            for kind, i in [("wall", 0), ("CPU", 1)]:
                got = med[dag][i] / med[name][i]
                print(f"  {dag} {kind:>4}: {got:.2f}x the time of {name} (target <= {want}x: {'met' if got <= want else 'missed'})")
PY
