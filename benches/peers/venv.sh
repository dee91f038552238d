# Sourced by the run_*.sh scripts: the peers' own virtualenv.
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
