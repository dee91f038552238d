"""NumPy's and dask.array's side of run_random.sh: the seed notebook's
random-array cells, printed as JSON lines (median seconds).

    Y = random.normal(size=(1000, 1000), chunks=(100, 100)); Y.mean()
    (x + x.T).mean(axis=0) over 4000 x 4000 in 500 x 500 chunks
    (x + x.T).mean(axis=0) over 20000 x 20000 in 1000 x 1000 chunks
        (only with `--only x-plus-xt-mean-20000`: run.sh runs it alone in
        its own process, for its peak RSS)

Each case runs once untimed and its answer is checked (the same statistical
bounds as benches/peers_random.rs: the numbers differ between generators),
then `--repeat` timed runs.
"""
import json
import math
import sys

import dask.array as da
import numpy as np

from timing import arg, measure


def x_plus_xt_mean(x):
    return (x + x.T).mean(axis=0)


def check(workload, got, n):
    """`got` must look like its workload's answer over standard normals: a
    mean of n*n of them for the scalar case, n means of 2n for the vector."""
    got = np.asarray(got)
    if workload.startswith("normal-mean"):
        bound = 10 / n  # ten standard deviations of a mean of n*n normals
        ok = got.shape == () and abs(float(got)) < bound
    else:
        sd = math.sqrt(2 / n)  # each element: mean of n sums of 2 normals
        ok = (
            got.shape == (n,)
            and bool(np.isfinite(got).all())
            and abs(float(got.mean())) < 10 * sd / math.sqrt(n)
            and 0.9 * sd < float(got.std()) < 1.1 * sd
        )
    if not ok:
        sys.exit(f"{workload}: the answer does not look like its workload's (shape {got.shape})")


def main():
    repeat = int(arg("--repeat", "3"))
    only = arg("--only", "normal-mean-1000,x-plus-xt-mean-4000").split(",")
    rng = np.random.default_rng(0)
    cases = {
        "normal-mean-1000": (1000, {
            "numpy": lambda: rng.normal(size=(1000, 1000)).mean(),
            "dask-threads": lambda: da.random.normal(size=(1000, 1000), chunks=(100, 100)).mean().compute(scheduler="threads"),
        }),
        "x-plus-xt-mean-4000": (4000, {
            "numpy": lambda: x_plus_xt_mean(rng.normal(size=(4000, 4000))),
            "dask-threads": lambda: x_plus_xt_mean(
                da.random.normal(size=(4000, 4000), chunks=(500, 500))
            ).compute(scheduler="threads"),
        }),
        # No NumPy row: the dense 3.2 GB array is what the blocked form avoids.
        "x-plus-xt-mean-20000": (20000, {
            "dask-threads": lambda: x_plus_xt_mean(
                da.random.normal(size=(20000, 20000), chunks=(1000, 1000))
            ).compute(scheduler="threads"),
        }),
    }
    for workload in only:
        n, impls = cases[workload]
        for impl, f in impls.items():
            secs, _, got = measure(repeat, f)
            check(workload, got, n)
            print(json.dumps({"workload": workload, "impl": impl, "seconds": round(secs, 5)}), flush=True)


if __name__ == "__main__":
    main()
