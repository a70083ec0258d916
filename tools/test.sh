#!/usr/bin/env bash
# The project's test command (README): library and notebooks in sync, notebook tests, pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f .venv/bin/activate ]; then source .venv/bin/activate; fi
export MLPSCALE_DATA="${MLPSCALE_DATA:-$(cd .. && pwd)/shared/data}"

echo "== sync: nbdev-export, nbdev-clean and the README must not change tracked files"
nbdev-export
nbdev-clean
python tools/readme.py
if [ -n "$(git status --porcelain -- mlpscale nbs README.md)" ]; then
  echo "FAIL: the library, the notebooks or the README are out of sync with nbs/ (run nbdev-export, nbdev-clean, python tools/readme.py and commit):"
  git status --porcelain -- mlpscale nbs README.md
  exit 1
fi

echo "== nbdev-test"
nbdev-test --n-workers 2 --timing

echo "== pytest"
MPLBACKEND=Agg python -m pytest -q tests
