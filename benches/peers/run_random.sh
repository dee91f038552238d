#!/usr/bin/env bash
# The seed notebook's random-array cells by dagwood beside NumPy and
# dask.array, interleaved ROUNDS times in one run; medians and ratios. Both
# sides run every case once untimed and checked, then 3 timed runs. The
# 20000 x 20000 case runs alone in a process per side under
# /usr/bin/time, for its peak RSS (the untimed run and 1 timed run).
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
bench_binary peers_random
big=x-plus-xt-mean-20000
out=$(mktemp)
rss=$(mktemp)
trap 'rm -f "$out" "$rss"' EXIT
# Peak RSS (kB) of one command, appended to $out as a JSON line.
with_rss() {
  local impl=$1
  shift
  /usr/bin/time -f '%M' -o "$rss" "$@" | grep '^{' >>"$out"
  echo "{\"workload\":\"$big\",\"impl\":\"$impl\",\"peak_rss_mb\":$(($(tail -1 "$rss") / 1024))}" >>"$out"
}
for r in $(seq "$rounds"); do
  echo "round $r/$rounds" >&2
  "$bin" --repeat 3 | grep '^{' >>"$out"
  "$venv/bin/python" "$here/random_mean.py" --repeat 3 >>"$out"
  with_rss dagwood "$bin" --repeat 1 --only "$big"
  with_rss dask-threads "$venv/bin/python" "$here/random_mean.py" --repeat 1 --only "$big"
done
"$venv/bin/python" - "$out" <<'PY'
import collections, json, statistics, sys
rows = collections.defaultdict(list)
rss = collections.defaultdict(list)
for line in open(sys.argv[1]):
    r = json.loads(line)
    if "peak_rss_mb" in r:
        rss[(r["workload"], r["impl"])].append(r["peak_rss_mb"])
    else:
        rows[(r["workload"], r["impl"])].append(r["seconds"])
med = {k: statistics.median(v) for k, v in rows.items()}
print("medians of the rounds (each round's number: a median of 3 timed runs after a checked one; 20000: 1 timed run)")
print(f"{'workload':<22} {'implementation':<14} {'seconds':>9} {'÷ dagwood':>10} {'peak RSS MB':>12}")
for (w, impl), s in sorted(med.items()):
    base = med.get((w, "dagwood"))
    m = f"{statistics.median(rss[(w, impl)]):12.0f}" if rss.get((w, impl)) else ""
    print(f"{w:<22} {impl:<14} {s:9.4f} {s / base:9.2f}x {m}")
big = "x-plus-xt-mean-20000"
if (big, "dagwood") in med and (big, "dask-threads") in med:
    t = med[(big, "dagwood")] / med[(big, "dask-threads")]
    m = statistics.median(rss[(big, "dagwood")])
    print(f"target: {big} dagwood / Dask time {t:.2f}x (<= 0.8x: {'met' if t <= 0.8 else 'missed'}), "
          f"dagwood peak RSS {m:.0f} MB (<= 200 MB: {'met' if m <= 200 else 'missed'})")
PY
