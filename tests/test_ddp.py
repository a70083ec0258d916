"""Data-parallel training with torchrun: 2 CPU processes over gloo compute what one process computes."""
import json, os, subprocess, sys
import pytest, torch
from safetensors.torch import load_file
from conftest import ROOT, mlpscale, needs_cifar

ARGS = ['--model', 'B_2-Wi_64', '--epochs', '2', '--batch-size', '128', '--train-limit', '4096', '--test-limit', '1000',
        '--ckpt-every', '10', '--no-progress',
        '--amp', 'off']   # fp32: equality within float tolerance; in bf16 (auto's choice with AMX) two ranks' rounding differs

def torchrun(*args, cwd):
    env = {**os.environ, 'PYTHONPATH': str(ROOT), 'OMP_NUM_THREADS': '1'}
    r = subprocess.run([sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=2', '--master-port', '29517',
                        '-m', 'mlpscale.cli', *map(str, args)], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    return r

def close(a, b, tol=1e-5):
    assert a.keys() == b.keys()
    return max((a[k] - b[k]).abs().max().item() for k in a) < tol

@pytest.fixture(scope='module')
def one(tmp_path_factory):
    "What two ranks must compute: one process's run of ARGS (made once for the tests that compare with it)"
    d = tmp_path_factory.mktemp('single') / 'one'
    mlpscale('train', *ARGS, '--out-dir', d, check=True)
    return d

@needs_cifar
def test_two_processes_equal_one(tmp_path, one):
    r = torchrun('train', *ARGS, '--out-dir', tmp_path / 'two', cwd=tmp_path)
    assert r.stdout.count('test_top1') == 2          # one report (its 'main' and 'test_top1' lines), from rank 0 only
    w1, w2 = load_file(one / 'model.safetensors'), load_file(tmp_path / 'two' / 'model.safetensors')
    assert close(w1, w2), 'weights differ beyond float tolerance'
    m1, m2 = (json.loads((d / 'metrics.json').read_text()) for d in (one, tmp_path / 'two'))
    assert abs(m1['test_top1'] - m2['test_top1']) < 2e-3 and m2['world_size'] == 2
    # one set of outputs: one log line per epoch, no second run folder, no per-rank files
    assert len((tmp_path / 'two' / 'log.jsonl').read_text().splitlines()) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ['two']
    assert sorted(p.name for p in (tmp_path / 'two').iterdir()) == ['checkpoints', 'config.json', 'log.jsonl', 'metrics.json', 'model.safetensors',
                                                                  'params.json', 'run.json']
    assert json.loads((tmp_path / 'two' / 'run.json').read_text())['status'] == 'finished'   # rank 0's record

@needs_cifar
def test_resume_across_ranks(tmp_path, one):
    torchrun('train', *ARGS, '--max-steps', '25', '--out-dir', tmp_path / 'cut', cwd=tmp_path)   # stops mid-epoch after a checkpoint
    assert not (tmp_path / 'cut' / 'log.jsonl').read_text().count('"epoch": 1')
    torchrun('train', '--resume', '--out-dir', tmp_path / 'cut', '--no-progress', cwd=tmp_path)
    assert close(load_file(one / 'model.safetensors'), load_file(tmp_path / 'cut' / 'model.safetensors'))

@needs_cifar
def test_time_budget_across_ranks(tmp_path):
    # both ranks follow rank 0's clock: the same learning rates and the same last step (a rank stopping alone would leave the other waiting)
    torchrun('train', *ARGS, '--time-budget', '4', '--warmup', '0.1', '--ckpt-every', '0', '--eval-every', '5', '--out-dir', tmp_path / 'b', cwd=tmp_path)
    m = json.loads((tmp_path / 'b' / 'metrics.json').read_text())
    assert m['ranks_in_sync'] is True and m['world_size'] == 2 and m['time_budget_s'] == 4, m
    log = [json.loads(l) for l in (tmp_path / 'b' / 'log.jsonl').read_text().splitlines()]
    assert 4 <= m['train_time_s'] < 4 + 2 and len(log) > 2, (m, log)                    # stopped once the budget was spent, not at --epochs 2
    lr = json.loads((tmp_path / 'b' / 'config.json').read_text())['lr']
    assert log[-1]['lr'] < 0.02 * lr and log[1]['lr'] > log[-2]['lr'], log                 # the decay ran over the budget, to zero at its end

def _sums_agree(rank, store, q):
    import torch.distributed as dist
    from mlpscale.train import ranks_in_sync
    dist.init_process_group('gloo', init_method=f'file://{store}', rank=rank, world_size=2)
    for same in (True, False):   # the same weights on both ranks, then each rank's own
        torch.manual_seed(0 if same else rank)
        q.put(((rank, same), ranks_in_sync(torch.nn.Linear(8, 4), 2)))
    dist.destroy_process_group()

def test_ranks_in_sync_tells_replicas_apart(tmp_path):
    "Both ranks find replicas with the same weights in sync, and replicas with different weights not"
    import torch.multiprocessing as mp
    ctx = mp.get_context('spawn'); q = ctx.Queue()
    ps = [ctx.Process(target=_sums_agree, args=(r, tmp_path / 'store', q)) for r in range(2)]
    for p in ps: p.start()
    got = dict(q.get(timeout=120) for _ in range(4))
    for p in ps: p.join(60)
    assert got == {(r, same): same for r in (0, 1) for same in (True, False)}, got
