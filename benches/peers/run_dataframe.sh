#!/usr/bin/env bash
# The CSV groupby-mean (10 CSV files x 1M rows of id,name,x,y; 1000 names;
# `read_csv("*.csv").groupby("name").agg(mean x)`) by dagwood's DataFrame
# beside hand-written arrow-csv + rayon and a single-threaded loop
# (benches/peers_dataframe.rs) and beside pandas, Polars (lazy scan_csv and
# eager read_csv) and dask.dataframe on its default threaded scheduler
# (dataframe.py), in one run: the two programs are interleaved ROUNDS times
# and the median of each is reported with its ratio to dagwood, in wall
# time and in CPU time. The Rust side runs first: it generates the data
# (target/bench-data/csv-groupby-10x1000000, ~400 MB, once) that both read,
# and checks every Rust version against the single-threaded one in the
# first round; the Python script checks its versions against each other,
# and this script checks that both sides found the same means.
#
#   bash benches/peers/run_dataframe.sh [ROUNDS] [ROWS_PER_FILE]
#
# RUSTFLAGS and CARGO_TARGET_DIR pass through to cargo. Uses the virtualenv
# benches/peers/.venv (created if missing) and installs dask[dataframe],
# pandas, Polars and pyarrow into it when they are missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
rounds=${1:-5}
rows=${2:-1000000}
# shellcheck source=venv.sh
. "$here/venv.sh"
peers_venv "import dask.dataframe, pandas, polars, pyarrow" "dask[dataframe]" pandas polars pyarrow
cd "$root"
bench_binary peers_dataframe
data="$root/target/bench-data/csv-groupby-10x$rows"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for r in $(seq "$rounds"); do
  echo "round $r/$rounds" >&2
  if [ "$r" = 1 ]; then
    args=()
  else
    args=(--no-check)
  fi
  "$bin" --rows "$rows" --repeat 3 "${args[@]}" | grep '^{' >>"$out"
  "$venv/bin/python" "$here/dataframe.py" --repeat 3 --data "$data" >>"$out"
done
"$venv/bin/python" - "$out" <<'PY'
import collections, json, statistics, sys
rows = collections.defaultdict(list)
results = {}
versions = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    rows[r["impl"]].append((r["seconds"], r["cpu_seconds"]))
    results.setdefault(r["impl"], []).append((r["groups"], r["digest"]))
    versions = r.get("versions", versions)
ref_impl = next(iter(results))
groups, ref = results[ref_impl][0]
for impl, rs in results.items():
    for g, d in rs:
        if g != groups or abs(d - ref) > 1e-6 * max(1.0, abs(ref)):
            sys.exit(f"{impl} found {g} groups with digest {d}, {ref_impl} {groups} with {ref}")
med = {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v)) for k, v in rows.items()}
base = med.get("dagwood")
print("median of the rounds (each round's number, on both sides: a median of 3 timed runs after a checked, warm one); "
      + ", ".join(f"{k} {v}" for k, v in sorted(versions.items())))
print(f"{'implementation':<18} {'wall s':>8} {'CPU s':>8} {'wall / dagwood':>15} {'CPU / dagwood':>14}  rounds")
for impl, (w, c) in sorted(med.items(), key=lambda kv: kv[1][0]):
    rw = f"{w / base[0]:14.2f}x" if base else ""
    rc = f"{c / base[1]:13.2f}x" if base and base[1] else ""
    print(f"{impl:<18} {w:8.3f} {c:8.2f} {rw:>15} {rc:>14}  {len(rows[impl])}")
print(f"all {sum(len(v) for v in rows.values())} results equal: {groups} groups (digest {ref:.6f})")
if base:
    print("dagwood against each (wall; > 1 means dagwood is faster):")
    for peer in ["rayon-handwritten", "single-threaded", "pandas", "polars-lazy", "polars-eager", "dask"]:
        if peer in med:
            print(f"  {peer:<18} {med[peer][0] / base[0]:6.2f}x  (CPU {med[peer][1] / base[1]:5.2f}x)")
    print("targets:")
    if "dask" in med:
        got = med["dask"][0] / base[0]
        print(f"  dagwood is {got:.2f}x faster than dask.dataframe (target >= 3x: {'met' if got >= 3 else 'missed'})")
    for peer in ["polars-lazy", "polars-eager"]:
        if peer in med:
            got = base[0] / med[peer][0]
            print(f"  dagwood takes {got:.2f}x the time of {peer} (target <= 1.2x: {'met' if got <= 1.2 else 'missed'})")
PY
