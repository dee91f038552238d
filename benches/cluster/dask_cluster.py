"""The Dask side of benches/cluster/run.sh: the same three workloads as
cluster/examples/cluster_bench.rs on dask.distributed's
LocalCluster(n_workers=P, threads_per_worker=1, processes=True):

    array  da.random.normal(3, 2, (N, N), chunks=C).mean()
    csv    dd.read_csv(DIR/*.csv).groupby("name").x.mean()
    tiny   a delayed tree sum (fan-in 16) over TASKS inc(i) leaves

The cluster is started once per call (not timed); each run rebuilds the
graph. Prints one JSON line per workload (median seconds of --repeat runs,
task count, digest). Bytes sent between workers are not measured.

    python dask_cluster.py --processes P [--repeat 3] [--data DIR] [--only array,csv,tiny]
"""
import json
import statistics
import sys
import time


def arg(name, default):
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else default


def inc(i):
    return i + 1


def add(*vs):
    return sum(vs)


def tiny(n):
    from dask import delayed

    level = [delayed(inc)(i) for i in range(n)]
    tasks = n
    while len(level) > 1:
        level = [delayed(add)(*level[i : i + 16]) for i in range(0, len(level), 16)]
        tasks += len(level)
    return level[0].compute(), tasks


def array(n, c):
    import dask.array as da

    x = da.random.normal(3.0, 2.0, size=(n, n), chunks=(c, c))
    m = x.mean()
    return float(m.compute()), len(m.__dask_graph__())


def csv(data):
    import dask.dataframe as dd

    s = dd.read_csv(f"{data}/*.csv").groupby("name").x.mean()
    tasks = len(s.__dask_graph__())
    s = s.compute()
    means = dict(zip(s.index, s.to_numpy().tolist()))
    return sum((i + 1) * means[k] for i, k in enumerate(sorted(means))), tasks


def main():
    import dask
    import distributed
    from distributed import Client, LocalCluster

    p = int(arg("--processes", "1"))
    repeat = int(arg("--repeat", "3"))
    data = arg("--data", ".")
    n = int(arg("--n", "8192"))
    c = int(arg("--chunk", "1024"))
    ntiny = int(arg("--tasks", "20000"))
    only = arg("--only", "array,csv,tiny").split(",")
    with LocalCluster(
        n_workers=p, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster, Client(cluster):
        for w in only:
            runs = []
            # The tiny tree takes ~2 ms a task on Dask: once is enough.
            for _ in range(1 if w == "tiny" else repeat):
                t = time.perf_counter()
                if w == "array":
                    digest, tasks = array(n, c)
                elif w == "csv":
                    digest, tasks = csv(data)
                else:
                    digest, tasks = tiny(ntiny)
                runs.append(time.perf_counter() - t)
            print(
                json.dumps(
                    {
                        "impl": "dask",
                        "workload": w,
                        "processes": p,
                        "seconds": statistics.median(runs),
                        "runs": runs,
                        "tasks": tasks,
                        "digest": digest,
                        "versions": {"dask": dask.__version__, "distributed": distributed.__version__},
                    }
                ),
                flush=True,
            )


if __name__ == "__main__":
    main()
