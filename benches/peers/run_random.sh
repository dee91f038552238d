#!/usr/bin/env bash
# The seed notebook's random-array cells by dagwood beside NumPy and
# dask.array, interleaved ROUNDS times in one run; medians and ratios.
#
#   bash benches/peers/run_random.sh [ROUNDS]
#
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
cargo bench --bench peers_random --no-run >/dev/null 2>&1
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for r in $(seq "$rounds"); do
  echo "round $r/$rounds" >&2
  cargo bench --quiet --bench peers_random -- --repeat 3 2>/dev/null | grep '^{' >>"$out"
  "$venv/bin/python" "$here/random_mean.py" --repeat 3 >>"$out"
done
"$venv/bin/python" - "$out" <<'PY'
import collections, json, statistics, sys
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    r = json.loads(line)
    rows[(r["workload"], r["impl"])].append(r["seconds"])
med = {k: statistics.median(v) for k, v in rows.items()}
print(f"{'workload':<22} {'implementation':<14} {'seconds':>9} {'÷ dagwood':>10}")
for (w, impl), s in sorted(med.items()):
    base = med.get((w, "dagwood"))
    print(f"{w:<22} {impl:<14} {s:9.4f} {s / base:9.2f}x")
PY
