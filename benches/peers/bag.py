"""dask.bag's side of the bag comparison: the JSON-lines frequencies pipeline
of benches/workloads/bag.rs,

    db.read_text("bag-json/*.json.gz").map(json.loads)
      .filter(lambda r: r["age"] >= 30).pluck("name").frequencies()

on dask.bag's default scheduler (processes) and on threads, over the files
the Rust side generated (target/bench-data/bag-json).

Prints one JSON line per implementation (median wall and CPU seconds per
run, CPU including the worker processes, and a checksum of the counts equal
to the Rust side's), like `cargo bench --bench peers_bag`. Run through
run_bag.sh, which interleaves both and prints the ratios.

    python bag.py [--repeat N] [--data DIR] [--only dask-processes,dask-threads,dask-sync]
"""
import json
import os

import dask
import dask.bag as db

from timing import arg, measure

MIN_AGE = 30


def pipeline(pattern):
    return (
        db.read_text(pattern)
        .map(json.loads)
        .filter(lambda r: r["age"] >= MIN_AGE)
        .pluck("name")
        .frequencies()
    )


def checksum(counts):
    """FNV-1a 64 over `name\\tcount\\n` lines in name order (as the Rust side)."""
    h = 0xCBF29CE484222325
    for name in sorted(counts):
        for b in f"{name}\t{counts[name]}\n".encode():
            h ^= b
            h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def main():
    repeat = int(arg("--repeat", "3"))
    here = os.path.dirname(os.path.abspath(__file__))
    data = arg("--data", os.path.join(here, "..", "..", "target", "bench-data", "bag-json"))
    only = arg("--only", "dask-processes,dask-threads").split(",")
    pattern = os.path.join(data, "*.json.gz")
    runs = {
        # dask.bag's default scheduler is the process pool.
        "dask-processes": lambda: pipeline(pattern).compute(),
        "dask-threads": lambda: pipeline(pattern).compute(scheduler="threads"),
        "dask-sync": lambda: pipeline(pattern).compute(scheduler="sync"),
    }
    for name in only:
        f = runs[name]
        wall, cpu, result = measure(repeat, f)
        counts = dict(result)
        print(
            json.dumps(
                {
                    "impl": name,
                    "seconds": round(wall, 4),
                    "cpu_seconds": round(cpu, 3),
                    "checksum": checksum(counts),
                    "names": len(counts),
                    "records": sum(counts.values()),
                    "dask": dask.__version__,
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
