"""mlpscale as a user installs it: the wheel, built here, installed into a fresh virtual environment outside the repository, and used
from a folder of the user's own -- `mlpscale models`, an experiment notebook (shipped inside the package) run by papermill at a tiny
size, `mlpscale runs`. The fresh environment takes the heavy dependencies (torch and the rest) from this one's site-packages through
a path file, so nothing is downloaded; the package itself comes only from the wheel."""
import os, site, subprocess, sys, sysconfig, zipfile
from pathlib import Path
import pytest
from conftest import ROOT

pytestmark = pytest.mark.slow

def run(*cmd, cwd, env=None, timeout=600):
    r = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, f"{cmd} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}"
    return r

def test_the_wheel_installs_and_runs_anywhere(tmp_path):
    dist = tmp_path / 'dist'
    r = run(sys.executable, '-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation', '--no-cache-dir', '-w', dist, ROOT, cwd=tmp_path)
    wheel = next(dist.glob('mlpscale-*.whl'))
    names = zipfile.ZipFile(wheel).namelist()
    assert 'mlpscale/resources/zoo_accuracy.csv' in names and 'mlpscale/resources/experiments/train.ipynb' in names, names
    assert not [n for n in names if n.startswith(('nbs/', 'tests/'))]
    assert 'is absent from the `packages` configuration' not in r.stdout + r.stderr   # no packaging warnings
    venv = tmp_path / 'venv'
    run(sys.executable, '-m', 'venv', venv, cwd=tmp_path)
    py = venv / 'bin' / 'python'
    purelib = Path(run(py, '-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])', cwd=tmp_path).stdout.strip())
    # the dependencies from this environment (its .pth files, the editable mlpscale among them, are not read from there)
    (purelib / 'deps-from-the-test-environment.pth').write_text(sysconfig.get_paths()['purelib'] + '\n')
    run(py, '-m', 'pip', 'install', '--no-deps', '--no-index', '--no-cache-dir', wheel, cwd=tmp_path)
    user = tmp_path / 'elsewhere'; user.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ('PYTHONPATH', 'MLPSCALE_EXPERIMENTS', 'VIRTUAL_ENV')}
    env.update(TQDM_DISABLE='1', PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}")
    where = run(py, '-c', 'import mlpscale; print(mlpscale.__file__)', cwd=user, env=env).stdout.strip()
    assert where.startswith(str(purelib)), where                                  # the wheel's package, not the repository's
    mls = venv / 'bin' / 'mlpscale'
    assert 'B_12-Wi_1024' in run(mls, 'models', 'B_*', cwd=user, env=env).stdout
    r = run(mls, 'run', 'train', '-p', 'dataset', 'synthetic', '-p', 'epochs', '1', '-p', 'train_limit', '256', '-p', 'test_limit', '64',
            '-p', 'batch_size', '64', cwd=user, env=env)
    assert 'finished:' in r.stdout and (user / 'runs' / 'train').is_dir(), r.stdout + r.stderr
    table = run(mls, 'runs', cwd=user, env=env).stdout
    assert 'train' in table and 'finished' in table and 'synthetic' in table, table
