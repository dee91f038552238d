#!/usr/bin/env bash
# Issue 8's cluster benchmark: the array reduction (random_normal(8192 x
# 8192, chunks 1024).mean()), the CSV groupby-mean (10 files x ROWS rows,
# benches/workloads/dataframe.rs's data) and a tree sum of tiny tasks
# (per-task overhead), with 1, 2 and 4 local processes of one thread, by
# dagwood-cluster (cluster/examples/cluster_bench.rs under dagwood-launch)
# and by dask.distributed (LocalCluster(n_workers=P, threads_per_worker=1,
# processes=True), dask_cluster.py), interleaved ROUNDS times; prints the
# medians, bytes sent between processes and the ratios.
#
#   bash benches/cluster/run.sh [ROUNDS] [ROWS_PER_FILE] [TINY_TASKS]
#
# CARGO_TARGET_DIR passes through to cargo. The CSV data is generated
# once by `cargo bench --bench peers_dataframe` when missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
rounds=${1:-1}
rows=${2:-200000}
tiny=${3:-5000}
# shellcheck source=../peers/venv.sh
. "$root/benches/peers/venv.sh"
peers_venv "import dask.dataframe, distributed, pandas, pyarrow" "dask[distributed]" "dask[dataframe]" pandas pyarrow
cd "$root"
target=${CARGO_TARGET_DIR:-$root/target}
cargo build --release -p dagwood-cluster --bin dagwood-launch --example cluster_bench
launch="$target/release/dagwood-launch"
prog="$target/release/examples/cluster_bench"
# Where benches/workloads/dataframe.rs's ensure_data writes (always under
# the workspace's own target/, whatever CARGO_TARGET_DIR says).
data="$root/target/bench-data/csv-groupby-10x$rows"
[ -f "$data/STAMP" ] || cargo bench --bench peers_dataframe -- --rows "$rows" --only single-threaded --repeat 1 >/dev/null
out=$(mktemp)
trap 'rm -f "$out"' EXIT
port=4300
for r in $(seq "$rounds"); do
  for p in 1 2 4; do
    echo "round $r/$rounds, $p processes" >&2
    for w in array csv tiny; do
      "$launch" -n "$p" --base-port "$port" -- "$prog" "$w" --repeat 3 --data "$data" --tasks "$tiny" |
        sed -n 's/^\[p0\] //p' | grep '^{' >>"$out"
      port=$((port + 10))
    done
    "$venv/bin/python" "$here/dask_cluster.py" --processes "$p" --repeat 3 --data "$data" --tasks "$tiny" 2>/dev/null |
      grep '^{' >>"$out"
  done
done
"$venv/bin/python" - "$out" <<'PY'
import collections, json, statistics, sys
rows = collections.defaultdict(list)
last = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    key = (r["workload"], r["processes"], r["impl"])
    rows[key].append(r["seconds"])
    last[key] = r
print("median of the rounds; seconds per run (dagwood: median of 3 runs per launch, connection start-up included;")
print("Dask: median of 3, tiny once, cluster start-up not included); bytes = dagwood's bytes sent between processes")
print(f"{'workload':<8} {'P':>2} {'dagwood s':>10} {'tasks':>6} {'us/task':>8} {'bytes':>8} {'values':>6} {'least':>7} {'bytes/least':>11} {'Dask s':>8} {'us/task':>8} {'Dask/dagwood':>12}")
bad = []
for w in ["array", "csv", "tiny"]:
    for p in [1, 2, 4]:
        d, k = last.get((w, p, "dagwood")), last.get((w, p, "dask"))
        if not d:
            continue
        ds = statistics.median(rows[(w, p, "dagwood")])
        ks = statistics.median(rows[(w, p, "dask")]) if k else float("nan")
        least = d["must_move_bytes"]
        ratio = f"{d['bytes_sent'] / least:.1f}x" if least else "-"
        print(f"{w:<8} {p:>2} {ds:10.3f} {d['tasks']:>6} {1e6 * ds / d['tasks']:8.1f} {d['bytes_sent']:>8} {d['values_sent']:>6} {least:>7} {ratio:>11} "
              f"{ks:8.3f} {1e6 * ks / k['tasks'] if k else float('nan'):8.1f} {ks / ds:11.1f}x")
        if k and w != "array" and abs(k["digest"] - d["digest"]) > 1e-6 * max(1, abs(d["digest"])):
            bad.append(f"{w} P={p}: dagwood digest {d['digest']}, Dask {k['digest']}")
if bad:
    sys.exit("results differ:\n" + "\n".join(bad))
print("csv and tiny results equal between dagwood and Dask (array: different random generators)")
PY
