"""Kill a real training process with SIGKILL at a random moment, resume it, and get the weights of an uninterrupted run."""
import os, random, shutil, signal, subprocess, sys, time
from pathlib import Path
import pytest, torch
from safetensors.torch import load_file
from conftest import ROOT, mlpscale, needs_cifar

ARGS = ['--model', 'B_2-Wi_64', '--epochs', '4', '--batch-size', '128', '--train-limit', '4096', '--test-limit', '1000',
        '--ckpt-every', '5', '--mixup', '0.2', '--no-progress']

@needs_cifar
def test_sigkill_and_resume_gives_identical_weights(tmp_path):
    mlpscale('train', *ARGS, '--out-dir', tmp_path / 'whole', check=True)
    env = {**os.environ, 'PYTHONPATH': str(ROOT)}
    ckpts = tmp_path / 'cut' / 'checkpoints'
    rng = random.Random()
    window = 1.0
    for attempt in range(8):   # kill at a random moment after the first checkpoint and before the final weights are written
        p = subprocess.Popen([sys.executable, '-m', 'mlpscale.cli', 'train', *ARGS, '--out-dir', tmp_path / 'cut'], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        t0 = time.time()
        while not (ckpts / 'latest').exists() and p.poll() is None and time.time() - t0 < 120: time.sleep(0.01)
        time.sleep(rng.uniform(0, window))
        if p.poll() is None: p.send_signal(signal.SIGKILL)
        p.wait()
        if p.returncode == -signal.SIGKILL and not (tmp_path / 'cut' / 'model.safetensors').exists(): break
        shutil.rmtree(tmp_path / 'cut'); window /= 2      # the run got to its end first: again, with an earlier kill
    else: pytest.fail('could not kill the run before it finished')
    assert p.returncode == -signal.SIGKILL
    assert not (tmp_path / 'cut' / 'model.safetensors').exists()
    step = (ckpts / 'latest').read_text().strip()
    mlpscale('train', '--resume', '--out-dir', tmp_path / 'cut', check=True)
    a = load_file(tmp_path / 'whole' / 'model.safetensors'); b = load_file(tmp_path / 'cut' / 'model.safetensors')
    assert a.keys() == b.keys()
    for k in a: assert torch.equal(a[k], b[k]), f'{k} differs after resuming from {step}'
    log_a = (tmp_path / 'whole' / 'log.jsonl').read_text().splitlines()
    log_b = (tmp_path / 'cut' / 'log.jsonl').read_text().splitlines()
    assert len(log_a) == len(log_b) == 4
