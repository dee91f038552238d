#!/usr/bin/env bash
# The JSON-lines frequencies pipeline (20 gzip files x 100k records) by
# dagwood's Bag beside hand-written rayon and a sequential loop
# (benches/peers_bag.rs) and beside dask.bag on its default scheduler
# (processes) and on threads (bag.py), in one run: the two programs are
# interleaved ROUNDS times and the median of each is reported with its
# ratio to dagwood, in wall time and in CPU time (steadier than wall time on
# a machine shared with other work). The Rust side runs first: it generates
# the data (target/bench-data/bag-json) that both read, and checks every
# Rust version against the sequential one in the first round.
#
#   bash benches/peers/run_bag.sh [ROUNDS]
#
# RUSTFLAGS and CARGO_TARGET_DIR pass through to cargo. Uses the virtualenv
# benches/peers/.venv (created if missing) and installs dask[bag] into it
# when it is missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
rounds=${1:-5}
# shellcheck source=venv.sh
. "$here/venv.sh"
peers_venv "import dask.bag" "dask[bag]"
cd "$root"
bench_binary peers_bag
data="$root/target/bench-data/bag-json"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for r in $(seq "$rounds"); do
  echo "round $r/$rounds" >&2
  if [ "$r" = 1 ]; then
    args=()
  else
    # The sequential loop (about twice dagwood's time) in the first round only.
    args=(--no-check --only dagwood-value,rayon-value,dagwood-typed,rayon-typed)
  fi
  "$bin" --repeat 3 "${args[@]}" | grep '^{' >>"$out"
  "$venv/bin/python" "$here/bag.py" --repeat 3 --data "$data" >>"$out"
done
"$venv/bin/python" - "$out" <<'PY'
import collections, json, statistics, sys
rows = collections.defaultdict(list)
sums = {}
dask_version = None
for line in open(sys.argv[1]):
    r = json.loads(line)
    rows[r["impl"]].append((r["seconds"], r["cpu_seconds"]))
    sums.setdefault((r["checksum"], r["names"], r["records"]), set()).add(r["impl"])
    dask_version = r.get("dask", dask_version)
if len(sums) != 1:
    sys.exit(f"the counts differ: {sums}")
med = {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v)) for k, v in rows.items()}
base = med.get("dagwood-value")
print(f"median of the rounds (each round's number, on both sides: a median of 3 timed runs after a checked, warm one); dask {dask_version}")
print(f"{'implementation':<26} {'wall s':>8} {'CPU s':>8} {'wall / dagwood-value':>21} {'CPU / dagwood-value':>20}  rounds")
for impl, (w, c) in sorted(med.items(), key=lambda kv: kv[1][0]):
    rw = f"{w / base[0]:20.2f}x" if base else ""
    rc = f"{c / base[1]:19.2f}x" if base and base[1] else ""
    print(f"{impl + (' (2 fields)' if impl.endswith('-typed') else ''):<26} {w:8.3f} {c:8.2f} {rw:>21} {rc:>20}  {len(rows[impl])}")
(checksum, names, records), = sums
print(f"all {sum(len(v) for v in rows.values())} results equal: {records} records counted under {names} names (checksum {checksum})")
print("targets:")
for mine, peer, want in [("dagwood-value", "rayon-value", 1.1), ("dagwood-typed", "rayon-typed", 1.1)]:
    if mine in med and peer in med:
        for kind, k in (("wall", 0), ("CPU", 1)):
            got = med[mine][k] / med[peer][k]
            print(f"  {kind:>4}: {mine} takes {got:.2f}x the time of {peer} (target <= {want}x: {'met' if got <= want else 'missed'})")
# Against Dask only the value rows: json.loads builds every field of every
# record, as serde_json::Value does; the typed rows deserialise only the two
# fields the pipeline reads, which is less work than Dask's (they are
# compared with rayon doing the same).
print("  (the *-typed rows parse only the 2 fields used; Dask's json.loads builds all of them: compared with rayon-typed only)")
for peer in ["dask-processes", "dask-threads"]:
    for mine in ["dagwood-value"]:
        if mine in med and peer in med:
            for kind, k in (("wall", 0), ("CPU", 1)):
                got = med[peer][k] / med[mine][k]
                print(f"  {kind:>4}: {mine} is {got:.2f}x faster than {peer} (target >= 5x: {'met' if got >= 5 else 'missed'})")
PY
