"""Python zarr's side of collections/tests/array/zarr.rs.

    python interop.py write DIR   # stores Python's zarr writes, for dagwood to read
    python interop.py check DIR   # checks the stores dagwood wrote

Every store holds the same values, from the element's index alone, so each
side checks the other without sharing data: float64 i*1000 + j + 0.5,
int32 i*1000 + j, complex128 i + 1j*j, bool (i + j) % 3 == 0; shape
(37, 23), chunks (10, 7).
"""
import os
import sys

import numpy as np
import zarr

SHAPE = (37, 23)
CHUNKS = (10, 7)


def expected(kind):
    i, j = np.indices(SHAPE)
    return {
        "float64": (i * 1000 + j + 0.5).astype(np.float64),
        "int32": (i * 1000 + j).astype(np.int32),
        "complex128": (i + 1j * j).astype(np.complex128),
        "bool": (i + j) % 3 == 0,
    }[kind]


def write(root):
    from numcodecs import Blosc, GZip, Zstd
    from zarr.codecs import BloscCodec, GzipCodec, ZstdCodec

    for kind in ["float64", "int32", "complex128", "bool"]:
        data = expected(kind)
        # v3 with zarr's default codecs (zstd), and with gzip and blosc.
        for name, comp in [("default", "auto"), ("gzip", GzipCodec(level=5)), ("blosc", BloscCodec(cname="lz4", clevel=5, shuffle="shuffle"))]:
            a = zarr.create_array(os.path.join(root, f"py-v3-{name}-{kind}.zarr"), shape=SHAPE, chunks=CHUNKS, dtype=data.dtype, compressors=comp, zarr_format=3)
            a[...] = data
        # v2 with its default (blosc), zstd and gzip.
        for name, comp in [("default", "auto"), ("zstd", Zstd(level=3)), ("gzip", GZip(level=5))]:
            a = zarr.create_array(os.path.join(root, f"py-v2-{name}-{kind}.zarr"), shape=SHAPE, chunks=CHUNKS, dtype=data.dtype, compressors=comp, zarr_format=2)
            a[...] = data
    print("wrote", len(os.listdir(root)), "stores")


def check(root):
    names = sorted(n for n in os.listdir(root) if n.startswith("rs-"))
    if not names:
        sys.exit(f"no stores written by dagwood in {root}")
    for name in names:
        kind = name.rsplit("-", 1)[1].removesuffix(".zarr")
        a = zarr.open_array(os.path.join(root, name), mode="r")
        want = expected(kind)
        if a.metadata.zarr_format != 3:
            sys.exit(f"{name}: zarr format {a.metadata.zarr_format}, expected 3")
        if a.shape != SHAPE or a.dtype != want.dtype:
            sys.exit(f"{name}: shape {a.shape} dtype {a.dtype}, expected {SHAPE} {want.dtype}")
        got = a[...]
        if not np.array_equal(got, want):
            sys.exit(f"{name}: {np.count_nonzero(got != want)} elements differ")
    print("checked", len(names), "stores")


if __name__ == "__main__":
    {"write": write, "check": check}[sys.argv[1]](sys.argv[2])
