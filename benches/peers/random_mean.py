"""NumPy's and dask.array's side of run_random.sh: the seed notebook's
random-array cells, printed as JSON lines (median seconds).

    Y = random.normal(size=(1000, 1000), chunks=(100, 100)); Y.mean()
    (x + x.T).mean(axis=0) over 4000 x 4000 in 500 x 500 chunks
"""
import json
import statistics
import sys
import time

import dask
import dask.array as da
import numpy as np


def median_secs(repeat, f):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    repeat = int(sys.argv[sys.argv.index("--repeat") + 1]) if "--repeat" in sys.argv else 3
    rng = np.random.default_rng(0)
    cases = {
        "normal-mean-1000": {
            "numpy": lambda: rng.normal(size=(1000, 1000)).mean(),
            "dask-threads": lambda: da.random.normal(size=(1000, 1000), chunks=(100, 100)).mean().compute(scheduler="threads"),
        },
        "x-plus-xt-mean-4000": {
            "numpy": lambda: (lambda x: (x + x.T).mean(axis=0))(rng.normal(size=(4000, 4000))),
            "dask-threads": lambda: (lambda x: (x + x.T).mean(axis=0))(
                da.random.normal(size=(4000, 4000), chunks=(500, 500))
            ).compute(scheduler="threads"),
        },
    }
    for workload, impls in cases.items():
        for impl, f in impls.items():
            secs = median_secs(repeat, f)
            print(json.dumps({"workload": workload, "impl": impl, "seconds": round(secs, 5)}))


if __name__ == "__main__":
    main()
