#!/usr/bin/env bash
# Per-task overhead of dagwood beside Dask (dask.delayed, threaded scheduler)
# on this machine, in one run: the two programs are interleaved ROUNDS times
# and the median of each is reported, with the ratio to Dask. Both sides
# check their answer against the plain loop before timing, warm up, and
# time 3 batches; the script checks that the answers agree.
#
#   bash benches/peers/run.sh [ROUNDS]
#
# Creates its own virtualenv (benches/peers/.venv) with dask on first use.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
rounds=${1:-5}
# shellcheck source=venv.sh
. "$here/venv.sh"
peers_venv "import dask" "dask"
cd "$root"
cargo bench --bench peers_report --no-run >/dev/null 2>&1
out=$(mktemp)
for r in $(seq "$rounds"); do
  echo "round $r/$rounds" >&2
  cargo bench --quiet --bench peers_report -- --repeat 3 2>/dev/null | grep '^{' >>"$out"
  "$venv/bin/python" "$here/overhead.py" --repeat 3 >>"$out"
done
"$venv/bin/python" - "$out" <<'PY'
import json, statistics, sys, collections
rows = collections.defaultdict(list)
answers = collections.defaultdict(set)
for line in open(sys.argv[1]):
    r = json.loads(line)
    rows[(r["workload"], r["impl"])].append(r["us_per_task"])
    answers[r["workload"]].add(r["answer"])
for w, a in answers.items():
    if len(a) != 1:
        sys.exit(f"{w}: the two sides' answers differ: {sorted(a)}")
print("medians of the rounds; each round's number is a median of 3 timed batches after a checked, warm one, on both sides")
med = {k: statistics.median(v) for k, v in rows.items()}
print(f"{'workload':<12} {'implementation':<18} {'µs/task':>10} {'Dask / this':>12}")
for (w, impl), us in sorted(med.items()):
    dask = med.get((w, "dask-threads"))
    ratio = f"{dask / us:10.1f}x" if dask and impl != "dask-threads" else ""
    print(f"{w:<12} {impl:<18} {us:>10.4f} {ratio:>12}")
PY
rm -f "$out"
