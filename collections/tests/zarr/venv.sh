#!/usr/bin/env bash
# Creates collections/tests/zarr/.venv with Python's zarr for the interop
# test (collections/tests/array/zarr.rs), unless it is there already.
# .ci/run calls it; run it by hand before `cargo test` to run that test
# locally (without it the test prints SKIPPED, and fails under CI=true).
#
#   bash collections/tests/zarr/venv.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
venv="$here/.venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --upgrade pip
fi
if ! "$venv/bin/python" -c "import zarr, numpy, numcodecs; assert int(zarr.__version__.split('.')[0]) >= 3" 2>/dev/null; then
  "$venv/bin/pip" install --quiet "zarr>=3,<4" numpy
fi
"$venv/bin/python" -c "import zarr; print('python zarr', zarr.__version__)"
