"""The Python side of the DataFrame comparison: the CSV groupby-mean of
benches/workloads/dataframe.rs,

    read_csv("csv-groupby-10x1000000/*.csv").groupby("name").x.mean()

by pandas (every file read, concatenated, grouped), Polars (lazy
`scan_csv(glob).group_by("name").agg(mean)`, and eager `read_csv` of each
file + concat), and dask.dataframe (`dd.read_csv(glob)` on its default
threaded scheduler), over the files the Rust side generated.

Prints one JSON line per implementation (median wall and CPU seconds per
run, the number of groups and the same digest of the means as the Rust
side), like `cargo bench --bench peers_dataframe`. Before printing, checks
that every implementation found the same names and means (relative 1e-9).
Run through run_dataframe.sh, which interleaves both and prints the ratios.

    python dataframe.py [--repeat N] [--data DIR] [--only pandas,polars-lazy,polars-eager,dask]
"""
import glob
import json
import os
import sys

from timing import arg, measure

ALL = "pandas,polars-lazy,polars-eager,dask"


def run_pandas(pattern):
    import pandas as pd

    frames = [pd.read_csv(f) for f in sorted(glob.glob(pattern))]
    s = pd.concat(frames, ignore_index=True).groupby("name").x.mean()
    return dict(zip(s.index, s.to_numpy().tolist()))


def run_polars_lazy(pattern):
    import polars as pl

    df = pl.scan_csv(pattern).group_by("name").agg(pl.col("x").mean()).collect()
    return dict(zip(df["name"].to_list(), df["x"].to_list()))


def run_polars_eager(pattern):
    import polars as pl

    frames = [pl.read_csv(f, columns=["name", "x"]) for f in sorted(glob.glob(pattern))]
    df = pl.concat(frames).group_by("name").agg(pl.col("x").mean())
    return dict(zip(df["name"].to_list(), df["x"].to_list()))


def run_dask(pattern):
    import dask.dataframe as dd

    # dask.dataframe's default scheduler is the thread pool.
    s = dd.read_csv(pattern).groupby("name").x.mean().compute()
    return dict(zip(s.index, s.to_numpy().tolist()))


RUNS = {
    "pandas": run_pandas,
    "polars-lazy": run_polars_lazy,
    "polars-eager": run_polars_eager,
    "dask": run_dask,
}


def digest(means):
    """sum((i + 1) * mean_i) in name order: the Rust side's `digest`."""
    return sum((i + 1) * means[k] for i, k in enumerate(sorted(means)))


def differs(a, b):
    if sorted(a) != sorted(b):
        return f"the names differ ({len(a)} vs {len(b)})"
    for k in a:
        if abs(a[k] - b[k]) > 1e-9 * max(1.0, abs(b[k])):
            return f"mean of {k!r}: {a[k]} vs {b[k]}"
    return None


def versions():
    out = {}
    for mod in ("pandas", "polars", "dask", "pyarrow"):
        try:
            out[mod] = __import__(mod).__version__
        except ImportError:
            pass
    return out


def main():
    repeat = int(arg("--repeat", "3"))
    here = os.path.dirname(os.path.abspath(__file__))
    data = arg("--data", os.path.join(here, "..", "..", "target", "bench-data", "csv-groupby-10x1000000"))
    only = arg("--only", ALL).split(",")
    pattern = os.path.join(data, "*.csv")
    if not glob.glob(pattern):
        sys.exit(f"no CSV files in {data} (run `cargo bench --bench peers_dataframe` first)")
    # Imported before any timing starts (Polars' first import costs ~0.1 s).
    import dask.dataframe  # noqa: F401
    import pandas  # noqa: F401
    import polars  # noqa: F401

    rows, first = [], None
    for name in only:
        f = RUNS[name]
        wall, cpu, result = measure(repeat, lambda: f(pattern))
        if first is None:
            first = (name, result)
        else:
            d = differs(result, first[1])
            if d:
                sys.exit(f"{name} differs from {first[0]}: {d}")
        rows.append(
            {
                "impl": name,
                "seconds": round(wall, 4),
                "cpu_seconds": round(cpu, 3),
                "groups": len(result),
                "digest": round(digest(result), 9),
                "versions": versions(),
            }
        )
    for r in rows:
        print(json.dumps(r), flush=True)


if __name__ == "__main__":
    main()
