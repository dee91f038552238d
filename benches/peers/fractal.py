"""NumPy's and dask.array's side of the fractal comparison: the workload of
benches/workloads/fractal.rs (the seed notebook's Mandelbrot) at 4000 x 6000.

* numpy-whole: the notebook's NumPy run on the whole picture (one thread);
* numpy-strips: the same run on strips of 10 rows, one after another;
* numpy-strips-threads: the strips on a thread pool (NumPy releases the GIL
  inside its loops);
* dask-where: the natural dask.array version (da.where on lazy arrays);
* dask-map-blocks: the NumPy run applied to each block with map_blocks.

Prints one JSON line per measurement (median wall and CPU seconds per picture) with a
checksum of the picture, like `cargo bench --bench peers_array`. Run
through run_array.sh, which interleaves both and prints the ratios.

Same arithmetic as the Rust side, so the pictures agree bit for bit: the
grid is `start + k * step`, z*z + c is complex multiply-add, |z| > 2 is
tested as re*re + im*im > 4, and the counts are int32 (the notebook's
`int` is int64; int32 halves the memory traffic of `out`, as in Rust).
"""
import json
import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import dask
import dask.array as da
import numpy as np

ROWS, COLS = 4000, 6000
ITERS = 20
STRIP = 10
RE0, RE1 = -1.5, 0.0
IM0, IM1 = -1.0, 0.0
# Rows per dask chunk (whole rows), measured on 2 cores (`--chunk`): da.where
# was fastest at 100-250 rows (3.1-3.6 s; 25 rows: 7 s, 1000 rows: 5-8 s),
# map_blocks at 10-25 rows (1.0-1.1 s; 100 rows: 1.6-2.3 s, 1000: 2.7-4.4 s).
DASK_WHERE_CHUNK = 100
DASK_MAP_BLOCKS_CHUNK = 25


def grid(rows, cols, lib=np, chunk=None):
    """x: a (1, cols) row of reals; y: a (rows, 1) column of imaginaries."""
    if lib is np:
        x = np.arange(cols) * ((RE1 - RE0) / (cols - 1)) + RE0
        y = np.arange(rows) * ((IM1 - IM0) / (rows - 1)) + IM0
    else:
        x = da.arange(cols, chunks=cols) * ((RE1 - RE0) / (cols - 1)) + RE0
        y = da.arange(rows, chunks=chunk) * ((IM1 - IM0) / (rows - 1)) + IM0
    return x[None, :], y[:, None]


def run(x, y, lib=np):
    """The notebook's run (lib: numpy or dask.array)."""
    z = x + 1j * y
    c = z.copy()
    out = lib.zeros(z.shape, np.int32, **({"chunks": z.chunks} if lib is da else {}))
    for it in range(ITERS):
        z = z * z + c  # the notebook writes z**2: the same product
        diverged = z.real * z.real + z.imag * z.imag > 4  # abs(z) > 2, without hypot
        out = lib.where(diverged & (out == 0), np.int32(it), out)
        z = lib.where(diverged, 2, z)
    return out


def run_block(c):
    """The NumPy run on one block of c (for map_blocks)."""
    z = c.copy()
    out = np.zeros(z.shape, np.int32)
    for it in range(ITERS):
        z = z * z + c
        diverged = z.real * z.real + z.imag * z.imag > 4
        out = np.where(diverged & (out == 0), np.int32(it), out)
        z = np.where(diverged, 2, z)
    return out


def numpy_whole():
    return run(*grid(ROWS, COLS))


def numpy_strips():
    x, y = grid(ROWS, COLS)
    return np.concatenate([run(x, y[s:s + STRIP]) for s in range(0, ROWS, STRIP)])


def numpy_strips_threads(pool):
    x, y = grid(ROWS, COLS)
    return np.concatenate(list(pool.map(lambda s: run(x, y[s:s + STRIP]), range(0, ROWS, STRIP))))


def dask_where(chunk):
    return run(*grid(ROWS, COLS, da, chunk), lib=da).compute(scheduler="threads")


def dask_map_blocks(chunk):
    x, y = grid(ROWS, COLS, da, chunk)
    c = x + 1j * y
    return c.map_blocks(run_block, dtype=np.int32).compute(scheduler="threads")


def measure(repeat, first, f):
    """Median wall and CPU seconds of `repeat` runs of f; a run that took
    over 3 s (`first`, the checked run, which also warms up) is timed once."""
    wall, cpu = [], []
    for _ in range(1 if first > 3 else repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        f()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(wall), statistics.median(cpu)


def arg(name, default, kind=int):
    return kind(sys.argv[sys.argv.index(name) + 1]) if name in sys.argv else default


def main():
    repeat = arg("--repeat", 3)
    chunk = arg("--chunk", None)  # rows per dask chunk, for both dask versions
    only = arg("--only", None, str)
    threads = os.cpu_count() or 2
    with ThreadPoolExecutor(threads) as pool:
        runs = [
            ("numpy-whole", numpy_whole),
            ("numpy-strips", numpy_strips),
            ("numpy-strips-threads", lambda: numpy_strips_threads(pool)),
            ("dask-where", lambda: dask_where(chunk or DASK_WHERE_CHUNK)),
            ("dask-map-blocks", lambda: dask_map_blocks(chunk or DASK_MAP_BLOCKS_CHUNK)),
        ]
        want = None
        for name, f in runs:
            if only and name not in only.split(","):
                continue
            start = time.perf_counter()
            got = f()
            first = time.perf_counter() - start
            if want is None:
                want = got
            elif not np.array_equal(got, want):
                raise SystemExit(f"{name}: {np.count_nonzero(got != want)} pixels differ")
            secs, cpu = measure(repeat, first, f)
            print(json.dumps({
                "workload": "fractal",
                "impl": name,
                "seconds": round(secs, 5),
                "cpu_seconds": round(cpu, 2),
                "checksum": int(got.sum(dtype=np.int64)),
                "zeros": int(np.count_nonzero(got == 0)),
            }), flush=True)


if __name__ == "__main__":
    main()
