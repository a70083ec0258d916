"""`mlpscale run` / `sweep` / `runs` / `report`: experiment notebooks executed with papermill into runs/<experiment>/<run-id>/,
their parameters checked before any kernel starts, and one runs store in which every result says what it measured or refuses."""
import contextlib, io, json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace
import pytest
from conftest import mlpscale, needs_cifar

def _snapshot(root: Path) -> dict:
    "Every file under `root` with its bytes and modification time."
    return {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(root.rglob('*')) if p.is_file()}

def _lines(text: str) -> list[str]: return [l for l in text.strip().splitlines() if l.strip()]

def _runs(root: Path, experiment: str) -> list[Path]: return sorted((root / 'runs' / experiment).iterdir())

@needs_cifar
def test_run_train_experiment_on_cifar(tmp_path):
    mlpscale('run', 'train', '-p', 'dataset', 'cifar10', '-p', 'model', 'B_2-Wi_64', '-p', 'epochs', '1',
             '-p', 'train_limit', '3000', '-p', 'test_limit', '1000', cwd=tmp_path, check=True)
    [run] = _runs(tmp_path, 'train')
    params = json.loads((run / 'params.json').read_text())
    assert params['model'] == 'B_2-Wi_64' and params['epochs'] == 1 and params['dataset'] == 'cifar10'
    metrics = json.loads((run / 'metrics.json').read_text())
    assert 0.15 < metrics['test_top1'] <= 1 and metrics['model'] == 'B_2-Wi_64' and metrics['dataset'] == 'cifar10'
    assert json.loads((run / 'run.json').read_text())['status'] == 'finished'
    png = (run / 'learning_curve.png').read_bytes()
    assert png[:8] == b'\x89PNG\r\n\x1a\n' and len(png) > 10_000
    assert (run / 'model.safetensors').exists() and (run / 'train.ipynb').exists()
    listing = _lines(mlpscale('runs', cwd=tmp_path, check=True).stdout)
    assert listing[0].split() == ['experiment', 'id', 'status', 'model', 'dataset', 'metric', 'value', 'duration', 'machine']
    assert listing[2].split()[:7] == ['train', run.name, 'finished', 'B_2-Wi_64', 'cifar10', 'test_top1', f"{metrics['test_top1']:.4g}"]

@pytest.fixture(scope='module')
def store(tmp_path_factory):
    "A runs store made by the commands: a train run that fails inside its kernel, then a sweep of the same job over two data roots."
    d = tmp_path_factory.mktemp('store')
    roots = [d / 'data-a', d / 'data-b']
    for r in roots: r.mkdir()
    fail = mlpscale('run', 'train', '-p', 'batch_size', '4096', '-p', 'epochs', '1', cwd=d)      # synthetic data: 2048 images
    sweep = mlpscale('sweep', 'train', '-g', f'data_root={roots[0]},{roots[1]}', '-p', 'epochs', '1', cwd=d)
    return SimpleNamespace(dir=d, roots=roots, fail=fail, sweep=sweep)

FAILED = 'batch_size=4096 is larger than the training set (2048 examples)'

def test_a_failure_inside_the_kernel_leads_with_the_package_message(store):
    r = store.fail
    assert r.returncode == 2 and 'Traceback' not in r.stderr
    lines = _lines(r.stderr)
    assert lines[0] == f'error: {FAILED}', lines
    run = next(p for p in _runs(store.dir, 'train') if 'batch_size=4096' in p.name)
    assert lines[1].startswith("  in cell In [") and lines[1].endswith(f"of experiment 'train'; partial output in {Path('runs', 'train', run.name, 'train.ipynb')}")
    info = json.loads((run / 'run.json').read_text())
    assert (info['status'], info['error']) == ('failed', FAILED) and (run / 'train.ipynb').exists()

def test_params_are_json_numbers_and_ids_ignore_the_data_root(store):
    assert store.sweep.returncode == 0, store.sweep.stderr
    first, second = [p for p in _runs(store.dir, 'train') if 'batch_size=4096' not in p.name]
    assert second.name == first.name + '-2'                    # the same computation: the same id, the next number
    params = json.loads((first / 'params.json').read_text())
    assert params['crop_ratio'] == [0.75, 4 / 3] and all(type(v) is float for v in params['crop_ratio'])
    assert params['crop_scale'] == [0.35, 1.0] and params['data_root'] == str(store.roots[0])
    info = json.loads((second / 'run.json').read_text())
    assert info['kind'] == 'papermill' and info['command'] == f"mlpscale run train -p epochs 1 -p data_root {store.roots[1]}"
    assert json.loads((first / 'metrics.json').read_text())['dataset'] == 'synthetic'

def test_runs_lists_failed_runs_apart_with_their_whole_error(store):
    listing = _lines(mlpscale('runs', cwd=store.dir, check=True).stdout)
    assert len(listing) == 6 and all(l.split()[2:6] == ['finished', 'B_2-Wi_64', 'synthetic', 'test_top1'] for l in listing[2:4])
    run = next(p for p in _runs(store.dir, 'train') if 'batch_size=4096' in p.name)
    assert listing[4] == '1 failed run (counted nowhere):'
    assert listing[5].startswith(f"train/{run.name}  failed  {FAILED} [cell In [")

def test_report_keeps_failed_and_synthetic_runs_apart(store):
    out = store.dir / 'results'
    rep = mlpscale('report', '--out', out, cwd=store.dir, check=True)
    table, failed = (out / 'train.md').read_text(), (out / 'failed.md').read_text()
    assert table.count('| synthetic |') == 2 and 'batch_size=4096' not in table and 'generated images' in table
    assert FAILED in failed
    assert (out / 'train.png').read_bytes()[:4] == b'\x89PNG'
    repro = (out / 'reproduction.md').read_text()               # a synthetic run never stands for a paper row
    assert repro.count('no run yet') == 4 and '0 of 4 from-scratch rows' in rep.stdout

def test_how_mlps_see_with_an_empty_data_root_refuses(tmp_path):
    empty = tmp_path / 'empty'; empty.mkdir()
    r = mlpscale('run', 'how_mlps_see', '-p', 'data_root', empty, cwd=tmp_path)
    assert r.returncode == 2 and 'Traceback' not in r.stderr
    [line] = _lines(r.stderr)
    assert line.startswith(f"error: dataset 'cifar10' not found: looked in {empty / 'cifar-10-batches-py'}. "), line
    assert '-p download True' in line and '-p data_root DIR' in line and '--download' not in line and '--data-root' not in line
    assert not (tmp_path / 'runs').exists()                    # refused before the kernel: no run folder, nothing claimed
    r = mlpscale('runs', cwd=tmp_path)                           # and `mlpscale runs` finds no store at all
    assert r.returncode == 2 and _lines(r.stderr) == ['error: --runs-dir runs does not exist: no runs were made there (make some with mlpscale train / run)']

EMPTY = '<empty>'
BAD = {   # experiment: [(-p values, what the one error line must name)]
    'train': [(('dataset', 'imagenet21k'), "dataset='imagenet21k' is not accepted"), (('epochs', '-1'), 'epochs=-1'),
              (('dataset', 'cifar10', 'data_root', EMPTY), "dataset 'cifar10' not found"), (('model', 'B_x-Wi_1'), "unknown model 'B_x-Wi_1'")],
    'ablations': [(('dataset', 'imagenet21k'), "dataset='imagenet21k' is not accepted"), (('epochs', '-1'), 'epochs=-1'),
                  (('dataset', 'cifar10', 'data_root', EMPTY), "dataset 'cifar10' not found"), (('mlp', 'B_x-Wi_1'), "mlp: unknown model 'B_x-Wi_1'")],
    'how_mlps_see': [(('dataset', 'imagenet21k'), "dataset='imagenet21k' is not accepted"), (('epochs', '-1'), 'epochs=-1'),
                     (('data_root', EMPTY), "dataset 'cifar10' not found"), (('cnn', 'ResNet_x'), "cnn: unknown model 'ResNet_x'")],
    'scaling': [(('dataset', 'imagenet21k'), "dataset='imagenet21k' is not accepted"), (('epochs', '-1'), 'epochs=-1'),
                (('dataset', 'cifar10', 'data_root', EMPTY), "dataset 'cifar10' not found"), (('widths', '[0, 64]'), 'widths=[0, 64] is not accepted')],
    'speed_vs_accuracy': [(('dataset', 'imagenet21k'), "dataset='imagenet21k' is not accepted"), (('train_epochs', '-1'), 'train_epochs=-1'),
                          (('dataset', 'cifar10', 'data_root', EMPTY), "dataset 'cifar10' not found"),
                          (('models', '[B_2-Wi_64, B_x-Wi_1]'), "models: unknown model 'B_x-Wi_1'")],
    'mechinterp': [(('dataset', 'imagenet21k'), "dataset='imagenet21k' is not accepted"), (('sae_steps', '0'), 'sae_steps=0'),
                   (('data_root', EMPTY), "dataset 'cifar10' not found"), (('checkpoints', '{mlp: B_6-Wi_512_res_64_in21k}'), "predicts in21k's classes")],
}

def _main(*args) -> SimpleNamespace:
    "`mlpscale *args` in this process (`mlpscale.cli.main`, what the command calls): its exit status and what it printed on stderr."
    from mlpscale.cli import main
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try: rc = main([str(a) for a in args])
        except SystemExit as e: rc = e.code
    return SimpleNamespace(returncode=rc, stderr=err.getvalue())

@pytest.mark.parametrize('experiment', list(BAD))
def test_bad_values_refused_before_the_kernel(tmp_path, experiment, monkeypatch):
    "In-process, as the bad-input table runs (a refusal before the kernel is the same there); the table runs some through the real command."
    empty = tmp_path / 'empty'; empty.mkdir()
    old = tmp_path / 'runs' / experiment / 'an-earlier-run'; old.mkdir(parents=True)
    (old / 'run.json').write_text(json.dumps({'status': 'finished', 'experiment': experiment}))
    before = _snapshot(tmp_path)
    monkeypatch.chdir(tmp_path); monkeypatch.setenv('TQDM_DISABLE', '1')
    def one(case):
        values, _ = case
        ps = [a for k, v in zip(values[::2], values[1::2]) for a in ('-p', k, empty if v == EMPTY else v)]
        return _main('run', experiment, *ps)
    results = [one(c) for c in BAD[experiment]]
    for (values, named), r in zip(BAD[experiment], results):
        assert r.returncode == 2 and 'Traceback' not in r.stderr, (values, r.stderr)
        [line] = _lines(r.stderr)
        assert line.startswith('error: ') and named in line, (values, line)
        assert '--data-root' not in line and '--download' not in line
    assert _snapshot(tmp_path) == before                      # no run folder, no file changed
    assert [p.name for p in (tmp_path / 'runs' / experiment).iterdir()] == ['an-earlier-run']

def test_sweep_checks_every_point_first(tmp_path):
    r = mlpscale('sweep', 'train', '-g', 'model=B_1-Wi_16,B_x-Wi_1', '-p', 'epochs', '1', cwd=tmp_path)
    assert r.returncode == 2 and "unknown model 'B_x-Wi_1'" in r.stderr and "grid point {'model': 'B_x-Wi_1'}" in r.stderr
    assert not (tmp_path / 'runs').exists()

def test_mechinterp_refuses_what_it_cannot_take_apart_before_any_work(tmp_path):
    "A model without a residual stream, a block the model does not have: one line from the kernel's first cells, nothing trained."
    cases = [(('mlp', 'S_3-Wi_64'), "error: mlp=S_3-Wi_64: this experiment reads the MLP's residual stream, which the B-MLP"),
             (('depth', '7'), 'error: depth=7 is out of range: B_3-Wi_64 has 3 blocks (0..2)')]
    with ThreadPoolExecutor(2) as ex:
        results = list(ex.map(lambda c: mlpscale('run', 'mechinterp', '-p', *c[0], '--runs-dir', tmp_path / c[0][0], cwd=tmp_path), cases))
    for (ps, named), r in zip(cases, results):
        assert r.returncode == 2 and 'Traceback' not in r.stderr and _lines(r.stderr)[0].startswith(named), (ps, r.stderr)
        [run] = list((tmp_path / ps[0] / 'mechinterp').iterdir())
        assert json.loads((run / 'run.json').read_text())['status'] == 'failed' and not (run / 'mlp').exists()   # nothing was trained
