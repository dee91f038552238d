"""Dask's side of the pipeline comparison (benches/workloads/pipeline.rs):
Dask's delayed tutorial over 16 and 256 inputs of 250,000 readings, with
NumPy doing each step (load, clean, analyse) and dask.delayed on the threaded
scheduler tying them together; the graph is built inside every timed run, as
Dask users do. Checked against the same NumPy steps run in a plain loop.

Prints one JSON line per measurement, like `cargo bench --bench static_graphs`.
"""
import json
import sys
import time

import numpy as np
import dask
from dask import delayed

READINGS = 250_000


def load(i):
    rng = np.random.default_rng(i + 1)
    u = rng.random(READINGS)
    x = 20.0 + 10.0 * u + i
    k = rng.integers(0, 1000, READINGS)
    x[k == 0] = np.nan
    x[k == 1] = 1e6
    return x


def clean(raw):
    return np.minimum(raw[~np.isnan(raw)], 100.0)


def analyse(data):
    return (data.size, float(data.sum()), float((data * data).sum()), float(data.min()), float(data.max()))


def summarise(all_stats):
    n = sum(s[0] for s in all_stats)
    s = sum(s[1] for s in all_stats)
    sq = sum(s[2] for s in all_stats)
    mean = s / n
    return (n, mean, max(sq / n - mean * mean, 0.0) ** 0.5)


def dask_pipeline(n):
    stats = [delayed(analyse)(delayed(clean)(delayed(load)(i))) for i in range(n)]
    return dask.compute(delayed(summarise)(stats), scheduler="threads")[0]


def sequential(n):
    return summarise([analyse(clean(load(i))) for i in range(n)])


def main():
    repeat = int(sys.argv[sys.argv.index("--repeat") + 1]) if "--repeat" in sys.argv else 3
    for n in (16, 256):
        want = sequential(n)
        got = dask_pipeline(n)  # also the warm-up run
        assert got[0] == want[0] and abs(got[1] - want[1]) < 1e-9 and abs(got[2] - want[2]) < 1e-9, (got, want)
        samples = []
        for _ in range(min(repeat, 3)):
            t = time.perf_counter()
            dask_pipeline(n)
            samples.append((time.perf_counter() - t) * 1e3)
        samples.sort()
        print(json.dumps({"workload": f"pipeline{n}", "impl": "dask-delayed", "value": samples[len(samples) // 2], "unit": "ms"}))


if __name__ == "__main__":
    main()
