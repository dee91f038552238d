"""Timing shared by the peers scripts, the same rule as the Rust side
(benches/workloads/report.rs): one untimed run first, whose answer is the
one checked and reported (it also pays for imports, thread and process pools
and the page cache), then `repeat` timed runs; medians are reported.
"""
import os
import statistics
import sys
import time


def arg(name, default):
    """The value after flag `name` on the command line, or `default`."""
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else default


def cpu_seconds():
    """CPU seconds of this process and its finished children (the worker
    processes of Dask's process scheduler are counted once they exit)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def measure(repeat, f):
    """(median wall seconds, median CPU seconds, the warm-up run's result) of
    `repeat` timed runs of `f` after one untimed run."""
    result = f()
    wall, cpu = [], []
    for _ in range(max(1, int(repeat))):
        t, c = time.perf_counter(), cpu_seconds()
        f()
        wall.append(time.perf_counter() - t)
        cpu.append(cpu_seconds() - c)
    return statistics.median(wall), statistics.median(cpu), result


def per_task_us(tasks, repeat, f, batch_seconds=0.2):
    """(median µs per task, the first run's result) of `repeat` timed batches
    of `f`; the untimed first batch, about `batch_seconds` long, sizes the
    batches (as `measure` in benches/peers_report.rs does)."""
    result = f()
    start, iters = time.perf_counter(), 1
    while time.perf_counter() - start < batch_seconds:
        f()
        iters += 1
    samples = []
    for _ in range(max(1, int(repeat))):
        t = time.perf_counter()
        for _ in range(iters):
            f()
        samples.append((time.perf_counter() - t) * 1e6 / (iters * tasks))
    return statistics.median(samples), result
