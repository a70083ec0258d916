"""The command line ends every bad input with one clear error line and a non-zero exit, never a traceback."""
import json
from pathlib import Path
import pytest
from conftest import mlpscale, needs_cifar, DATA

def one_error_line(r, expected):
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, r.stderr
    assert 'Traceback' not in r.stderr
    assert lines[0].startswith('error: ') and expected in lines[0], lines[0]

def test_bad_model_name(tmp_path):
    r = mlpscale('train', '--model', 'B_x-Wi_1', '--out-dir', tmp_path / 'x')
    one_error_line(r, "unknown model 'B_x-Wi_1'. Accepted forms: B_<blocks>-Wi_<width>")

def test_bad_dataset(tmp_path):
    one_error_line(mlpscale('train', '--dataset', 'nope', '--out-dir', tmp_path / 'x'), "dataset='nope' is not accepted; choose one of: cifar10")

def test_data_root_without_data(tmp_path):
    r = mlpscale('train', '--data-root', tmp_path, '--out-dir', tmp_path / 'x')
    one_error_line(r, f"dataset 'cifar10' not found: looked in {tmp_path}/cifar-10-batches-py")
    assert '--download' in r.stderr and 'MLPSCALE_DATA' in r.stderr
    assert not (tmp_path / 'x').exists()   # nothing half-written

def test_finetune_from_checkpoint_of_another_width(tmp_path):
    mlpscale('train', '--dataset', 'synthetic', '--model', 'B_2-Wi_32', '--epochs', '1', '--out-dir', tmp_path / 'pre', check=True)
    r = mlpscale('finetune', '--dataset', 'synthetic', '--model', 'B_2-Wi_64', '--checkpoint', tmp_path / 'pre', '--out-dir', tmp_path / 'ft')
    one_error_line(r, 'does not fit model B_2-Wi_64: shape mismatch: linear_in.weight')
    assert '(32, 3072) vs model (64, 3072)' in r.stderr

def test_existing_run_is_never_overwritten(tmp_path):
    args = ('train', '--dataset', 'synthetic', '--model', 'B_1-Wi_16', '--epochs', '1', '--out-dir', tmp_path / 'r')
    mlpscale(*args, check=True)
    before = (tmp_path / 'r' / 'model.safetensors').read_bytes()
    one_error_line(mlpscale(*args), 'already holds a run; pass --resume')
    assert (tmp_path / 'r' / 'model.safetensors').read_bytes() == before

def test_help_lists_config_fields_with_defaults():
    r = mlpscale('train', '--help')
    assert r.returncode == 0
    for flag in ('--model', '--batch-size', '--optimizer', '--label-smoothing', '--mixup', '--accum-steps', '--clip-grad', '--resume', '--compile'):
        assert flag in r.stdout, flag
    assert "(default: B_4-Wi_256)" in r.stdout

@needs_cifar
def test_train_finetune_eval_on_cifar(tmp_path):
    """A small real run through the three commands: pre-train, linear-probe the checkpoint, evaluate with TTA."""
    mlpscale('train', '--model', 'B_2-Wi_128', '--epochs', '2', '--train-limit', '5000', '--test-limit', '2000',
             '--out-dir', tmp_path / 'pre', check=True)
    m = json.loads((tmp_path / 'pre' / 'metrics.json').read_text())
    assert m['test_top1'] > 0.25, m      # 10 classes: chance is 0.10
    mlpscale('finetune', '--checkpoint', tmp_path / 'pre', '--mode', 'linear', '--epochs', '1', '--train-limit', '5000',
             '--test-limit', '2000', '--out-dir', tmp_path / 'lin', check=True)
    lin = json.loads((tmp_path / 'lin' / 'metrics.json').read_text())
    assert lin['model'] == 'B_2-Wi_128' and lin['test_top1'] > 0.25
    r = mlpscale('eval', '--checkpoint', tmp_path / 'pre', '--tta', '2', '--test-limit', '2000', cwd=tmp_path, check=True)
    assert 'top1' in r.stdout and 'per_class' in r.stdout and 'airplane' in r.stdout
    # the CIFAR-10 model on a 100-class dataset: refused, never scored with a random head
    from PIL import Image
    for split in ('train', 'val'):
        for c in range(100):
            (tmp_path / 'c100' / split / f'class{c:03d}').mkdir(parents=True)
            Image.new('RGB', (32, 32), (c, 2 * c, 255 - c)).save(tmp_path / 'c100' / split / f'class{c:03d}' / 'a.png')
    r = mlpscale('eval', '--checkpoint', tmp_path / 'pre', '--dataset', 'imagefolder', '--data-path', tmp_path / 'c100', '--resolution', '32',
                 cwd=tmp_path, env_extra={'MLPSCALE_CACHE': str(tmp_path / 'cache')})
    one_error_line(r, 'has a 10-class head trained on cifar10, but imagefolder has 100 classes')
    assert 'Fine-tune it first' in r.stderr

@needs_cifar
def test_bench_loader_prints_the_ratio(tmp_path):
    r = mlpscale('bench', 'loader', '--batches', '10', '--min-time', '0.5', '--device', 'cpu', '--json', tmp_path / 'b.json', cwd=tmp_path, check=True)
    assert 'mlpscale DeviceLoader' in r.stdout and 'ratio:' in r.stdout
    res = json.loads((tmp_path / 'b.json').read_text())
    assert res['mlpscale_img_s'] > 0 and res['torchvision_img_s'] > 0
    assert abs(res['ratio'] - res['mlpscale_img_s'] / res['torchvision_img_s']) < 1e-9
    assert f"{res['ratio']:.1f}x" in r.stdout

def test_cli_runs_are_listed_next_to_papermill_runs(tmp_path):
    "One runs store: a `mlpscale train` run and a `mlpscale run train` run in a fresh folder, listed together with model, dataset, accuracy and status."
    mlpscale('train', '--dataset', 'synthetic', '--model', 'B_1-Wi_16', '--epochs', '1', cwd=tmp_path, check=True)
    mlpscale('run', 'train', '-p', 'model', 'B_1-Wi_32', '-p', 'epochs', '1', cwd=tmp_path, check=True)
    out = mlpscale('runs', cwd=tmp_path, check=True).stdout
    rows = [l.split() for l in out.splitlines() if l.startswith('train ')]
    assert len(rows) == 2, out
    by_model = {r[3]: r for r in rows}
    assert set(by_model) == {'B_1-Wi_16', 'B_1-Wi_32'}, out
    for r in rows: assert r[2] == 'finished' and r[4] == 'synthetic' and r[5] == 'test_top1' and 0 <= float(r[6]) <= 1, r
    kinds = {json.loads((d / 'run.json').read_text())['kind'] for d in (tmp_path / 'runs' / 'train').iterdir()}
    assert kinds == {'cli', 'papermill'}

def test_files_follow_the_umask(tmp_path):
    "Every file a run writes -- safetensors included, whose writer sets 0600 of its own -- and every folder get the mode the umask gives (0644 / 0755 under 022)."
    import os, subprocess, sys
    from conftest import ROOT
    env = {**os.environ, 'PYTHONPATH': str(ROOT), 'TQDM_DISABLE': '1'}
    r = subprocess.run([sys.executable, '-m', 'mlpscale.cli', 'train', '--dataset', 'synthetic', '--model', 'B_1-Wi_16', '--epochs', '2',
                        '--ckpt-every', '3', '--out-dir', str(tmp_path / 'r')], env=env, capture_output=True, text=True,
                       preexec_fn=lambda: os.umask(0o022), timeout=600)
    assert r.returncode == 0, r.stderr
    files = [p for p in (tmp_path / 'r').rglob('*')]
    assert any(p.name == 'model.safetensors' and 'checkpoints' in p.parts for p in files) and (tmp_path / 'r' / 'model.safetensors').exists()
    wrong = [f"{p.relative_to(tmp_path)}: {oct(p.stat().st_mode & 0o777)}" for p in files
             if (p.stat().st_mode & 0o777) != (0o755 if p.is_dir() else 0o644)]
    assert not wrong, wrong

def test_interrupt_names_the_resume_command(tmp_path):
    "Ctrl-C (SIGINT) during training: exit status 130 and one line that says how to continue, which then works."
    import os, signal, subprocess, sys, time
    from conftest import ROOT
    env = {**os.environ, 'PYTHONPATH': str(ROOT), 'TQDM_DISABLE': '1'}
    args = [sys.executable, '-m', 'mlpscale.cli', 'train', '--dataset', 'synthetic', '--model', 'B_1-Wi_16', '--epochs', '100000',   # far more than it runs: Ctrl-C ends it
            '--train-limit', '512', '--no-progress', '--out-dir', str(tmp_path / 'r')]
    # Ctrl-C's default action in the child: a shell that starts a job in the background (CI scripts under `nohup ... &`) passes
    # SIGINT on as ignored, and Python then never turns it into KeyboardInterrupt
    p = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.time() + 120
    while not (tmp_path / 'r' / 'log.jsonl').exists() and time.time() < deadline: time.sleep(0.2)   # training has begun
    p.send_signal(signal.SIGINT)
    try: out, err = p.communicate(timeout=120)
    except subprocess.TimeoutExpired: p.kill(); p.communicate(); raise    # no run left training after the test
    assert p.returncode == 130, (p.returncode, err)
    lines = [l for l in err.splitlines() if l.strip()]
    assert lines == [f"interrupted; continue the run with: mlpscale train --resume --out-dir {tmp_path / 'r'}"], err
    r = mlpscale('train', '--resume', '--out-dir', tmp_path / 'r', '--max-steps', '3')
    assert r.returncode == 0, r.stderr
