# Sourced by the run_*.sh scripts: the peers' own virtualenv, and the
# dagwood side's report binary.
#
#   peers_venv "import dask.bag" "dask[bag]"
#   peers_venv "import dask.dataframe, pandas, polars, pyarrow" "dask[dataframe]" pandas polars pyarrow
#
# creates benches/peers/.venv when missing and pip-installs the packages
# (the 2024 Dask and distributed line first, the newest as a fallback) when the Python
# statement fails. Sets $venv.
peers_venv() {
  local check=$1
  shift
  venv="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/.venv"
  if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --upgrade pip
  fi
  if ! "$venv/bin/python" -c "$check" 2>/dev/null; then
    local pinned=()
    for p in "$@"; do
      case $p in dask* | distributed) pinned+=("$p==2024.*") ;; *) pinned+=("$p") ;; esac
    done
    "$venv/bin/pip" install --quiet "${pinned[@]}" || "$venv/bin/pip" install --quiet "$@"
  fi
}

# Builds benches/NAME.rs once (every round then runs the same binary) and
# sets $bin to it; exits with cargo's output if it does not build. Run from
# the workspace root.
bench_binary() {
  local name=$1
  bin=$(cargo bench --bench "$name" --no-run 2>&1 | sed -n "s/.*Executable .*(\(.*$name-[0-9a-f]*\)).*/\1/p" | tail -1)
  if [ -z "$bin" ] || [ ! -x "$bin" ]; then
    echo "could not build benches/$name.rs:" >&2
    cargo bench --bench "$name" --no-run >&2
    exit 1
  fi
}
