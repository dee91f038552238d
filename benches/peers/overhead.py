"""Dask's side of the overhead comparison: the workloads of
benches/workloads/mod.rs with dask.delayed on the threaded scheduler.

Prints one JSON line per measurement (microseconds per task, and the
answer, checked here against the plain loop first), like
`cargo bench --bench peers_report`. Run through run.sh, which interleaves
both, checks that both sides' answers agree and prints the ratios.
"""
import json
import sys

import dask
from dask import delayed

from timing import arg, per_task_us

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


def plain_sum(n, seed):
    return sum(tiny(i + seed) for i in range(n)) & MASK


def plain_chain(seed):
    x = seed
    for _ in range(CHAIN):
        x = tiny(x)
    return x


def main():
    repeat = int(arg("--repeat", "3"))
    for workload, tasks, f, want in [
        ("independent", INDEPENDENT + 1, independent, plain_sum(INDEPENDENT, 1)),
        ("dynamic", DYNAMIC, dynamic, plain_sum(DYNAMIC, 1)),
        ("chain", CHAIN, chain, plain_chain(1)),
    ]:
        us, got = per_task_us(tasks, repeat, lambda: f(1))
        if got != want:
            sys.exit(f"{workload}: dask computed {got}, the plain loop {want}")
        print(json.dumps({"workload": workload, "impl": "dask-threads", "us_per_task": round(us, 5), "answer": str(got)}))


if __name__ == "__main__":
    main()
