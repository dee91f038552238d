#!/usr/bin/env bash
# Per-task overhead of dagwood's futures client beside dask.distributed's
# Client(processes=False) on this machine, in one run: submit + gather of
# 10,000 tiny tasks (and the same through map), the two programs
# interleaved ROUNDS times; the median of each and the ratio.
#
#   bash benches/peers/run_client.sh [ROUNDS]
#
# Uses the virtualenv benches/peers/.venv (created if missing) and installs
# dask and distributed into it when they are missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
rounds=${1:-5}
# shellcheck source=venv.sh
. "$here/venv.sh"
peers_venv "import dask.distributed" "dask" "distributed"
cd "$root"
cargo bench --bench peers_client --no-run >/dev/null 2>&1
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for r in $(seq "$rounds"); do
  echo "round $r/$rounds" >&2
  cargo bench --quiet --bench peers_client -- --repeat 5 2>/dev/null | grep '^{' >>"$out"
  "$venv/bin/python" "$here/client.py" --repeat 5 2>/dev/null | grep '^{' >>"$out"
done
"$venv/bin/python" - "$out" <<'PY'
import collections, json, statistics, sys
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    r = json.loads(line)
    rows[(r["workload"], r["impl"])].append(r["us_per_task"])
med = {k: statistics.median(v) for k, v in rows.items()}
print(f"{'workload':<15} {'implementation':<18} {'µs/task':>10} {'Dask / this':>12}")
for (w, impl), us in sorted(med.items()):
    dask = med.get((w, "dask-distributed"))
    ratio = f"{dask / us:10.1f}x" if dask and impl != "dask-distributed" else ""
    print(f"{w:<15} {impl:<18} {us:>10.4f} {ratio:>12}")
PY
