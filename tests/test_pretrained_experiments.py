"""The two comparison experiments on a published checkpoint by name, served from 127.0.0.1 as in test_pretrained.py (whose server
and official pipeline this file reuses): a file of its own, so that pytest's two workers run it beside test_pretrained.py."""
import json
import torch
from conftest import needs_cifar, DATA
import pytest

from mlpscale.models import BottleneckMLP
from test_pretrained import server, env_for, cli, official_inputs, FT, PRE   # server: the module-scoped fixture (a server of this file's own)

@needs_cifar
@pytest.mark.parametrize('experiment', ['how_mlps_see', 'mechinterp'])
def test_experiments_take_a_published_checkpoint_by_name(server, tmp_path, experiment):
    """The published 64 px MLP fine-tuned on CIFAR-10, by name, beside a ResNet and a ViT trained here at 32 px: each model is fed at
    its own resolution and with its own preprocessing, and the whole experiment runs; the pre-trained member (an ImageNet-21k head)
    is refused in one line before the kernel starts."""
    url, src, sds = server
    env = env_for(url, tmp_path / 'cache')
    small = ['-p', 'test_limit', '200', '-p', 'train_limit', '600', '-p', 'epochs', '1'] + (
        ['-p', 'attr_images', '16', '-p', 'ig_steps', '8', '-p', 'sae_steps', '50', '-p', 'sae_features', '2'] if experiment == 'mechinterp' else
        ['-p', 'robust_n', '32', '-p', 'probe_limit', '300', '-p', 'cka_images', '64', '-p', 'vis_steps', '4', '-p', 'units', '1'])
    cli('run', experiment, '-p', 'mlp', 'B_6-Wi_512', '-p', 'checkpoints', json.dumps({'mlp': FT.name}), *small,
        '--runs-dir', tmp_path / 'runs', env=env, check=True, timeout=900)
    [run] = list((tmp_path / 'runs' / experiment).iterdir())
    m = json.loads((run / 'metrics.json').read_text())['models']
    assert (m['MLP']['name'], m['MLP']['resolution'], m['MLP']['interp'], m['MLP']['source']) == \
           ('B_6-Wi_512', 64, 'area', f'loaded from {FT.name}'), m['MLP']
    assert all((m[r]['resolution'], m[r]['interp']) == (32, 'bilinear') and m[r]['source'].startswith('trained') for r in ('CNN', 'ViT')), m
    # the official preprocessing: the experiment's MLP top-1 is that of the weights on the official pipeline's inputs
    model = BottleneckMLP(3 * 64 * 64, 10, width=512, blocks=6); model.load_state_dict(sds[FT.name]); model.eval()
    from mlpscale.data import load_dataset
    d = load_dataset('cifar10', 'test', root=DATA, limit=200, seed=0)            # the experiment's test subset (its seed is 0)
    with torch.no_grad(): ref = (model(official_inputs(d.images.permute(0, 2, 3, 1).numpy())).argmax(1) == d.labels).float().mean().item()
    assert abs(m['MLP']['test_top1'] - ref) < 1e-9 and m['MLP']['params'] == sum(p.numel() for p in model.parameters()), (m['MLP'], ref)
    r = cli('run', experiment, '-p', 'checkpoints', json.dumps({'mlp': PRE.name}), '--runs-dir', tmp_path / 'refused', env=env)
    assert r.returncode == 2 and f"checkpoints['mlp']='{PRE.name}' predicts in21k's classes; this run is on cifar10" in r.stderr, r.stderr
    assert 'Traceback' not in r.stderr and not (tmp_path / 'refused').exists()
