#!/usr/bin/env bash
# The fractal (seed notebook's Mandelbrot, 4000 x 6000) by dagwood arrays
# beside NumPy and dask.array on this machine, in one run: the Rust report
# (benches/peers_array.rs: dagwood and hand-written Rust versions) and
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
    args=(--no-check --only dagwood-array,numpy-style-threads,numpy-style-rayon,handwritten)
  fi
  "$bin" --repeat 3 "${args[@]}" | grep '^{' >>"$out"
  "$venv/bin/python" "$here/fractal.py" --repeat 3 >>"$out"
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
best = {k: min(w for w, _ in v) for k, v in rows.items()}
base = med.get("dagwood-array")
print("median of the rounds (each round's number is itself a median of 3 runs); best = the fastest round")
print(f"{'implementation':<22} {'wall s':>8} {'CPU s':>8} {'best s':>8} {'wall / dagwood':>15} {'CPU / dagwood':>14} {'best / dagwood':>15}  rounds")
for impl, (w, c) in sorted(med.items(), key=lambda kv: kv[1][0]):
    rw = f"{w / base[0]:14.2f}x" if base else ""
    rc = f"{c / base[1]:13.2f}x" if base and base[1] else ""
    rb = f"{best[impl] / best['dagwood-array']:14.2f}x" if base else ""
    print(f"{impl:<22} {w:8.3f} {c:8.2f} {best[impl]:8.3f} {rw:>15} {rc:>14} {rb:>15}  {len(rows[impl])}")
print(f"all {sum(len(v) for v in rows.values())} pictures equal (checksum {next(iter(sums))})")
if base:
    measures = {
        "wall": lambda k: med[k][0],
        "CPU": lambda k: med[k][1],
        "best": lambda k: best[k],
    }
    print("targets:")
    for name, want in [("dask-where", 5.0), ("dask-map-blocks", 2.0), ("numpy-style-1thread", 1.8)]:
        if name in med:
            for kind, m in measures.items():
                got = m(name) / m("dagwood-array")
                print(f"  {kind:>4}: dagwood is {got:.2f}x faster than {name} (target >= {want}x: {'met' if got >= want else 'missed'})")
    for name, want in [("numpy-style-threads", 1.1), ("handwritten", 1.3)]:
        if name in med:
            for kind, m in measures.items():
                got = m("dagwood-array") / m(name)
                print(f"  {kind:>4}: dagwood takes {got:.2f}x the time of {name} (target <= {want}x: {'met' if got <= want else 'missed'})")
PY
