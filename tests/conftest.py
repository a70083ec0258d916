"""Shared pytest setup: the data root, the CLI as a subprocess, and skips where real data is absent."""
import os, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / 'shared' / 'data'
os.environ.setdefault('MPLBACKEND', 'Agg')
if 'MLPSCALE_DATA' not in os.environ and SHARED.exists(): os.environ['MLPSCALE_DATA'] = str(SHARED)
DATA = Path(os.environ.get('MLPSCALE_DATA', SHARED))
HAVE_CIFAR = (DATA / 'cifar-10-batches-py').exists()

needs_cifar = pytest.mark.skipif(not HAVE_CIFAR, reason=f'CIFAR-10 not found under {DATA} (set MLPSCALE_DATA; CI has ../shared/data)')

def mlpscale(*args, cwd=None, timeout=600, check=False, env_extra=None):
    "Run the `mlpscale` command (as `python -m mlpscale.cli`, with `env_extra` on top of the environment) and return the CompletedProcess."
    env = {**os.environ, 'PYTHONPATH': str(ROOT), 'TQDM_DISABLE': '1', **(env_extra or {})}
    r = subprocess.run([sys.executable, '-m', 'mlpscale.cli', *map(str, args)], cwd=cwd, env=env, capture_output=True,
                       text=True, timeout=timeout)
    if check and r.returncode: raise AssertionError(f'mlpscale {args} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}')
    return r
