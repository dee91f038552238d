"""Dask's side of the overhead comparison: the workloads of
benches/workloads/mod.rs with dask.delayed on the threaded scheduler.

Prints one JSON line per measurement (microseconds per task), like
`cargo bench --bench peers_report`. Run through run.sh, which interleaves
both and prints the ratios.
"""
import json
import statistics
import sys
import time

import dask
from dask import delayed

INDEPENDENT = 128
DYNAMIC = 10_000
CHAIN = 100
MASK = (1 << 64) - 1


def tiny(x):
    return (x * 6364136223846793005 + 1442695040888963407) & MASK


def add_all(parts):
    return sum(parts) & MASK


def tree_sum(parts, fan_in=64):
    while len(parts) > 1:
        parts = [delayed(add_all)(parts[i:i + fan_in]) for i in range(0, len(parts), fan_in)]
    return parts[0]


def independent(seed):
    parts = [delayed(tiny)(i + seed) for i in range(INDEPENDENT)]
    return dask.compute(delayed(add_all)(parts), scheduler="threads")[0]


def dynamic(seed):
    parts = [delayed(tiny)(i + seed) for i in range(DYNAMIC)]
    return dask.compute(tree_sum(parts), scheduler="threads")[0]


def chain(seed):
    x = delayed(tiny)(seed)
    for _ in range(CHAIN - 1):
        x = delayed(tiny)(x)
    return dask.compute(x, scheduler="threads")[0]


def measure(tasks, repeat, f):
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        iters = 0
        while time.perf_counter() - start < 0.2:
            f(1)
            iters += 1
        samples.append((time.perf_counter() - start) * 1e6 / (iters * tasks))
    return statistics.median(samples)


def main():
    repeat = int(sys.argv[sys.argv.index("--repeat") + 1]) if "--repeat" in sys.argv else 3
    for workload, tasks, f in [
        ("independent", INDEPENDENT + 1, independent),
        ("dynamic", DYNAMIC, dynamic),
        ("chain", CHAIN, chain),
    ]:
        us = measure(tasks, repeat, f)
        print(json.dumps({"workload": workload, "impl": "dask-threads", "us_per_task": round(us, 5)}))


if __name__ == "__main__":
    main()
