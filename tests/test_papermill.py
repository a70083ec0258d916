"""`mlpscale run train` executes the experiment notebook with papermill into runs/train/<run-id>/."""
import json
from pathlib import Path
import pytest
from conftest import mlpscale, needs_cifar

@needs_cifar
def test_run_train_experiment_on_cifar(tmp_path):
    args = ('run', 'train', '-p', 'dataset', 'cifar10', '-p', 'model', 'B_2-Wi_64', '-p', 'epochs', '1',
            '-p', 'train_limit', '3000', '-p', 'test_limit', '1000')
    r = mlpscale(*args, cwd=tmp_path, check=True)
    runs = sorted((tmp_path / 'runs' / 'train').iterdir())
    assert len(runs) == 1
    run = runs[0]
    params = json.loads((run / 'params.json').read_text())
    assert params['model'] == 'B_2-Wi_64' and params['epochs'] == 1 and params['dataset'] == 'cifar10'
    metrics = json.loads((run / 'metrics.json').read_text())
    assert 0.15 < metrics['test_top1'] <= 1 and metrics['model'] == 'B_2-Wi_64'
    assert json.loads((run / 'run.json').read_text())['status'] == 'finished'
    png = (run / 'learning_curve.png').read_bytes()
    assert png[:8] == b'\x89PNG\r\n\x1a\n' and len(png) > 10_000
    assert (run / 'model.safetensors').exists() and (run / 'train.ipynb').exists()
    before = (run / 'metrics.json').read_bytes()
    mlpscale(*args, cwd=tmp_path, check=True)          # the same parameters again: a new folder, the old one untouched
    runs2 = sorted((tmp_path / 'runs' / 'train').iterdir())
    assert len(runs2) == 2 and (run / 'metrics.json').read_bytes() == before
    listing = mlpscale('runs', cwd=tmp_path, check=True).stdout
    assert listing.count('finished') == 2

def test_failing_notebook_names_the_cell(tmp_path):
    r = mlpscale('run', 'train', '-p', 'model', 'B_x-Wi_1', cwd=tmp_path)
    assert r.returncode == 2 and 'Traceback' not in r.stderr
    line = r.stderr.strip().splitlines()[-1]
    assert line.startswith("error: experiment 'train' failed in cell") and "unknown model 'B_x-Wi_1'" in line, line
    run = next((tmp_path / 'runs' / 'train').iterdir())
    assert json.loads((run / 'run.json').read_text())['status'] == 'failed'
    assert (run / 'train.ipynb').exists()           # the partial output stays
    assert 'failed' in mlpscale('runs', cwd=tmp_path, check=True).stdout

def test_unknown_parameter(tmp_path):
    r = mlpscale('run', 'train', '-p', 'epoch', '2', cwd=tmp_path)
    assert r.returncode == 2 and "unknown parameter" in r.stderr and 'epochs' in r.stderr

def test_sweep_goes_on_after_a_failed_point_and_report_keeps_it_apart(tmp_path):
    r = mlpscale('sweep', 'train', '-g', 'model=B_1-Wi_16,B_x-Wi_1', '-p', 'epochs', '1', cwd=tmp_path)
    assert r.returncode == 1, r.stderr                     # one point failed: non-zero, after running both
    assert r.stdout.count('finished') == 1 and r.stdout.count('failed') == 1
    rep = mlpscale('report', '--out', tmp_path / 'results', cwd=tmp_path, check=True)
    table = (tmp_path / 'results' / 'train.md').read_text()
    failed = (tmp_path / 'results' / 'failed.md').read_text()
    assert 'B_1-Wi_16' in table and 'B_x-Wi_1' not in table
    assert 'B_x-Wi_1' in failed or 'unknown model' in failed
    assert (tmp_path / 'results' / 'train.png').read_bytes()[:4] == b'\x89PNG'
    repro = (tmp_path / 'results' / 'reproduction.md').read_text()   # no CIFAR-10 run of a paper model: every row waits
    assert repro.count('no run yet') == 4 and 'B_x-Wi_1' not in repro and '0 of 4 from-scratch rows' in rep.stdout
