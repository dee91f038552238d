"""dask.distributed's side of the futures-client comparison: the workload of
benches/workloads/client.rs on `Client(processes=False)` (threads in this
process, all cores): submit 10,000 tiny tasks and gather them, and the same
through `client.map`.

Prints one JSON line per measurement (median microseconds per task), like
`cargo bench --bench peers_client`. Run through run_client.sh, which
interleaves both and prints the ratios.
"""
import json
import sys

from dask.distributed import Client

from timing import arg, measure

TASKS = 10_000
MASK = (1 << 64) - 1


def tiny(x):
    return (x * 6364136223846793005 + 1442695040888963407) & MASK


def expected(seed):
    return sum(tiny(i + seed) for i in range(TASKS)) & MASK


def submit_gather(client, seed):
    # pure=False: a new key per call, as dagwood's submit (no hashing).
    futures = [client.submit(tiny, i + seed, pure=False) for i in range(TASKS)]
    return sum(client.gather(futures)) & MASK


def map_gather(client, seed):
    futures = client.map(tiny, range(seed, seed + TASKS), pure=False)
    return sum(client.gather(futures)) & MASK


def main():
    repeat = int(arg("--repeat", "3"))
    with Client(processes=False, dashboard_address=None) as client:
        for workload, f in (("submit-gather", submit_gather), ("map-gather", map_gather)):
            wall, _, got = measure(repeat, lambda: f(client, 1))
            if got != expected(1):
                sys.exit(f"{workload}: dask computed {got}, the plain loop {expected(1)}")
            us = wall * 1e6 / TASKS
            print(json.dumps({"workload": workload, "impl": "dask-distributed", "us_per_task": round(us, 5)}), flush=True)


if __name__ == "__main__":
    main()
