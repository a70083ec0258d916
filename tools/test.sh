#!/usr/bin/env bash
# The project's test command (README): library and notebooks in sync, notebook tests, pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f .venv/bin/activate ]; then source .venv/bin/activate; fi
export MLPSCALE_DATA="${MLPSCALE_DATA:-$(cd .. && pwd)/shared/data}"
t0=$(date +%s); t_step=$t0
took() { local now; now=$(date +%s); echo "   ($1 took $(( now - t_step )) s)"; t_step=$now; }

echo "== sync: nbdev-export, nbdev-clean and the README must not change tracked files"
snapshot() { find mlpscale nbs README.md -type f -not -path '*/__pycache__/*' -not -path '*/.ipynb_checkpoints/*' | sort | xargs sha1sum; }
before=$(snapshot)
nbdev-export
nbdev-clean
python tools/readme.py
after=$(snapshot)
if [ "$before" != "$after" ]; then
  echo "FAIL: the library, the notebooks or the README were out of sync with nbs/; these files changed (run nbdev-export, nbdev-clean, python tools/readme.py and commit them):"
  diff <(echo "$before") <(echo "$after") || true
  exit 1
fi
# the package compiled once: an environment that sets PYTHONDONTWRITEBYTECODE would have every process below compile it again
python -m compileall -q mlpscale
took sync

# Each notebook runs once. The docs build executes the chapters and the home page as nbdev-test does (the same runner, flags and
# skipped cells) and fails on any error; nbdev-test runs what the site does not execute, the experiment notebooks at their
# CI-sized defaults. One thread per notebook process: two processes with two threads each on two cores slow each other down.
# how_mlps_see and mechinterp run once, in pytest (tests/test_pretrained_experiments.py: every cell, with a published checkpoint
# beside models trained there, and its own assertions on top of the notebooks').
echo "== nbdev-test: the experiment notebooks"
OMP_NUM_THREADS=1 nbdev-test --n-workers 2 --timing --skip-file-re '^([_.]|how_mlps_see|mechinterp)' nbs/experiments
took nbdev-test

echo "== docs: execute the chapters (their tests) into the site _docs/ (tools/build_docs.py; the browser tests open it)"
OMP_NUM_THREADS=1 python tools/build_docs.py --n-workers 2
took docs

echo "== the GPU acceptance script at tiny sizes on the CPU (tools/gpu_acceptance.sh --smoke; the full run needs one H100)"
smoke_out=$(mktemp -d)
bash tools/gpu_acceptance.sh --smoke --out "$smoke_out"
rm -rf "$smoke_out"
took "GPU script smoke run"

echo "== pytest"
# two workers, one file each at a time (a file's fixtures are built once; the two-rank tests keep their port to themselves), one thread each
OMP_NUM_THREADS=1 MPLBACKEND=Agg python -m pytest -q -n 2 --dist loadfile --durations=12 tests
took pytest
echo "== the test command took $(( $(date +%s) - t0 )) s"
