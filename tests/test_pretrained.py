"""The published checkpoints end to end, as a user meets them, with a local HTTP server on 127.0.0.1 standing in for Google Drive:
official-format files (torch.save of the state dict + the official config, both file layouts) are downloaded by name, checked
by SHA-256, loaded with identical logits, evaluated on real CIFAR-10 with the official preprocessing, and fine-tuned with the
official recipe. Nothing touches the internet."""
import json, os, shutil
from pathlib import Path
import numpy as np
import pytest
import torch
from conftest import mlpscale, needs_cifar, DATA

from mlpscale.core import sha256_file
from mlpscale.models import BottleneckMLP
from mlpscale.data import CIFAR_MEAN, CIFAR_STD, load_dataset
from mlpscale.pretrained import PRETRAINED
from mirror import local_mirror

def _umask() -> int:
    m = os.umask(0); os.umask(m); return m

PRE, FT = PRETRAINED['B_6-Wi_512_res_64_in21k'], PRETRAINED['B_6-Wi_512_res_64_in21k_cifar10']

def official_config(entry):
    "The config the official train.py writes (json.dump(args.__dict__)): the pre-training run's, which the fine-tuned entries point at too."
    return {'data_path': './beton', 'dataset': 'imagenet21', 'resolution': 64, 'crop_resolution': 64, 'n_train': 11801680, 'model': 'BottleneckMLP',
            'architecture': entry.architecture, 'normalization': 'layer', 'act': 'gelu', 'drop_rate': None, 'optimizer': 'lion', 'batch_size': 16384,
            'accum_steps': 1, 'lr': 5e-05, 'scheduler': 'none', 'weight_decay': 0.0, 'epochs': 800, 'smooth': 0.3, 'clip': 0.0, 'reload': False,
            'augment': True, 'mixup': 0.8, 'calculate_stats': 1, 'checkpoint_folder': './checkpoints', 'save_freq': 50, 'save': True,
            'wandb': False, 'wandb_project': 'mlps', 'wandb_entity': None, 'num_classes': 11230, 'num_params': 24657374}

def official_state_dict(entry, seed):
    "A state dict with exactly the official BottleneckMLP's keys and shapes (random weights), as `torch.save(model.state_dict())` writes it."
    torch.manual_seed(seed)
    m = BottleneckMLP(3 * 64 * 64, entry.num_classes, width=512, blocks=6)
    return {k: v.clone() for k, v in m.state_dict().items()}

@pytest.fixture(scope='module')
def server(tmp_path_factory):
    "The official downloader's layout on a local HTTP server: <file>_weights and <file>_config for a pre-trained and a fine-tuned entry."
    src = tmp_path_factory.mktemp('drive')
    sds = {}
    for e, seed in ((PRE, 0), (FT, 1)):
        sds[e.name] = official_state_dict(e, seed)
        torch.save(sds[e.name], src / f'{e.file}_weights')
        (src / f'{e.file}_config').write_text(json.dumps(official_config(e), indent=2))
    with local_mirror(src) as url: yield url, src, sds

def env_for(url, cache):
    return {'MLPSCALE_PRETRAINED_MIRROR': url, 'MLPSCALE_CACHE': str(cache)}

def cli(*args, env=None, **kw): return mlpscale(*args, env_extra=env, **kw)

def official_inputs(images_hwc: np.ndarray) -> torch.Tensor:
    "The official test pipeline, written with OpenCV and torchvision as FFCV runs it: INTER_AREA 32 -> 64, float32, Normalize(mean*255, std*255)."
    import cv2, torchvision.transforms as T
    up = np.stack([cv2.resize(im, (64, 64), interpolation=cv2.INTER_AREA) for im in images_hwc])
    x = torch.from_numpy(up).permute(0, 3, 1, 2).float()
    return T.Normalize(np.array(CIFAR_MEAN) * 255, np.array(CIFAR_STD) * 255)(x)

def test_download_by_name_checks_sha_and_loads_identical_logits(server, tmp_path):
    url, src, sds = server
    env = env_for(url, tmp_path / 'cache')
    r = cli('download', PRE.name, FT.name, env=env, check=True)
    for e in (PRE, FT):
        w = tmp_path / 'cache' / 'checkpoints' / f'{e.file}_weights'
        assert f'{e.name}: {w}' in r.stdout
        assert sha256_file(w) == sha256_file(src / w.name)
        assert (w.parent / (w.name + '.sha256')).read_text().split()[0] == sha256_file(w)
        assert (w.parent / f'{e.file}_config').read_bytes() == (src / f'{e.file}_config').read_bytes()
    # in Python, as timm users expect: create_model(..., pretrained=NAME) gives the same logits as the state dict loaded by hand
    os.environ.update(env)
    try:
        from mlpscale.models import create_model
        m = create_model('B_6-Wi_512', pretrained=PRE.name).eval()
        ref = BottleneckMLP(3 * 64 * 64, 11230, width=512, blocks=6); ref.load_state_dict(sds[PRE.name]); ref.eval()
        x = torch.randn(4, 3, 64, 64)
        with torch.no_grad(): assert torch.equal(m(x), ref(x))
        assert (m.num_classes, m.dim_in) == (11230, 3 * 64 * 64)
    finally:
        for k in env: os.environ.pop(k)
    # weights that changed since their download, or that were put in the cache by hand (no SHA-256 record), are not trusted:
    # the next use fetches them again, and says so
    w = tmp_path / 'cache' / 'checkpoints' / f'{FT.file}_weights'
    with open(w, 'r+b') as f: f.seek(1000); f.write(b'\x00\x01\x02')
    r = cli('download', FT.name, env=env, check=True)
    assert 'changed since it was downloaded' in r.stderr and 'downloading it again' in r.stderr, r.stderr
    assert sha256_file(w) == sha256_file(src / w.name)
    (w.parent / (w.name + '.sha256')).unlink(); w.write_bytes(b'a file put here by hand')
    r = cli('download', FT.name, env=env, check=True)
    assert 'was not downloaded by mlpscale' in r.stderr and sha256_file(w) == sha256_file(src / w.name), r.stderr
    assert {oct(p.stat().st_mode & 0o777) for p in w.parent.iterdir()} == {oct(0o666 & ~_umask())}   # the umask's mode, as every file written

@needs_cifar
def test_eval_finetuned_on_cifar10_with_the_official_preprocessing(server, tmp_path, N=2000):
    """The fine-tuned member on 2,000 CIFAR-10 test images (a seeded random subset) with interp=area: the same predictions as the
    OpenCV/torchvision reference on the same images."""
    url, src, sds = server
    env = env_for(url, tmp_path / 'cache')
    r = cli('eval', '--checkpoint', FT.name, '--dataset', 'cifar10', '--amp', 'off', '--json', tmp_path / 'ev.json',   # no --interp:
            '--test-limit', N, '--seed', '7', '--runs-dir', tmp_path / 'runs', env=env, check=True)        # a published checkpoint's own
    assert 'config says num classes 11230' in r.stderr            # the pre-training config beside a 10-class head: the weights win
    assert 'note: --interp area: B_6-Wi_512_res_64_in21k_cifar10 is an official checkpoint' in r.stderr, r.stderr   # said ...
    assert any(l.split() == ['interp', 'area'] for l in r.stdout.splitlines()), r.stdout                           # ... and printed
    got = json.loads((tmp_path / 'ev.json').read_text())
    model = BottleneckMLP(3 * 64 * 64, 10, width=512, blocks=6); model.load_state_dict(sds[FT.name]); model.eval()
    d = load_dataset('cifar10', 'test', root=DATA, limit=N, seed=7)          # `--test-limit N --seed 7`'s images, as stored (uint8)
    hwc, tgt = d.images.permute(0, 2, 3, 1).numpy(), d.labels
    with torch.no_grad(): pred = torch.cat([model(official_inputs(hwc[i:i + 1000])) for i in range(0, N, 1000)]).argmax(1)
    ref_top1 = (pred == tgt).float().mean().item()
    assert got['n'] == N and got['interp'] == 'area' and got['resolution'] == 64 and got['amp_used'] == 'fp32'   # the reference runs in fp32
    assert abs(got['test_top1'] - ref_top1) < 1e-9, (got['test_top1'], ref_top1)
    assert np.allclose(got['per_class'], [(pred[tgt == c] == c).float().mean().item() for c in range(10)], rtol=0, atol=1e-9), got['per_class']   # and class by class
    # the record in the runs store, listed by `mlpscale runs`
    rec = next((tmp_path / 'runs' / 'eval').iterdir())
    assert json.loads((rec / 'run.json').read_text())['status'] == 'finished'
    assert json.loads((rec / 'params.json').read_text())['interp'] == 'area'     # ... and recorded
    assert json.loads((rec / 'metrics.json').read_text())['test_top1'] == got['test_top1']
    # the other official layout: weights.pt with config.txt beside it, loaded by path: the same number
    folder = tmp_path / 'by_hand'; folder.mkdir()
    shutil.copy(src / f'{FT.file}_weights', folder / 'weights.pt'); shutil.copy(src / f'{FT.file}_config', folder / 'config.txt')
    cli('eval', '--checkpoint', folder / 'weights.pt', '--dataset', 'cifar10', '--interp', 'area', '--amp', 'off', '--json', tmp_path / 'ev2.json',
        '--test-limit', N, '--seed', '7', '--runs-dir', tmp_path / 'runs', env=env, check=True)
    assert json.loads((tmp_path / 'ev2.json').read_text())['test_top1'] == got['test_top1']
    # the pre-trained member has an 11,230-class head: evaluating it on CIFAR-10 is refused, never scored with a random head
    r = cli('eval', '--checkpoint', PRE.name, '--dataset', 'cifar10', '--runs-dir', tmp_path / 'runs', env=env)
    assert r.returncode == 2 and 'has a 11,230-class head' in r.stderr and 'Fine-tune it first' in r.stderr, r.stderr

@needs_cifar
def test_finetune_pretrained_with_the_official_recipe(server, tmp_path):
    "A few steps of the official recipe from the 11,230-class ImageNet-21k member: the saved head has 10 rows, and the run says what it did."
    url, src, sds = server
    env = env_for(url, tmp_path / 'cache')
    out = tmp_path / 'ft'
    r = cli('finetune', '--checkpoint', PRE.name, '--dataset', 'cifar10', '--recipe', 'official-finetune', '--max-steps', '2',
            '--train-limit', '4096', '--test-limit', '500', '--tta-random', '2', '--out-dir', out, env=env, check=True, timeout=900)
    assert "replaced the 11,230-class head of B_6-Wi_512_res_64_in21k (imagenet21) by a new 10-class head for cifar10" in r.stderr, r.stderr
    from safetensors.torch import load_file
    w = load_file(out / 'model.safetensors')
    assert tuple(w['linear_out.weight'].shape) == (10, 512) and tuple(w['linear_in.weight'].shape) == (512, 3 * 64 * 64)
    cfg = json.loads((out / 'config.json').read_text())
    assert (cfg['optimizer'], cfg['nesterov'], cfg['lr'], cfg['weight_decay'], cfg['clip_grad'], cfg['label_smoothing'], cfg['batch_size'],
            cfg['crop_scale'], cfg['crop_ratio'], cfg['interp'], cfg['recipe'], cfg['num_classes'], cfg['resolution_used']) == \
           ('sgd', False, 0.01, 0.0, 1.0, 0.3, 2048, [0.4, 1.0], [1.0, 1.0], 'area', 'official-finetune', 10, 64)
    m = json.loads((out / 'metrics.json').read_text())
    assert m['steps'] == 2 and m['tta_random_views'] == 2 and 0 <= m['test_top1_tta_random'] <= 1
    run = json.loads((out / 'run.json').read_text())
    assert run['status'] == 'finished' and run['command'][:2] == ['mlpscale', 'finetune']
    # mixup on top of the 11,230-class checkpoint: targets and head agree (it used to die with a raw RuntimeError)
    cli('finetune', '--checkpoint', PRE.name, '--dataset', 'cifar10', '--recipe', 'official-finetune', '--mixup', '0.8', '--max-steps', '1',
        '--batch-size', '256', '--train-limit', '1024', '--test-limit', '256', '--tta-random', '0', '--out-dir', tmp_path / 'mix', env=env, check=True)
    assert tuple(load_file(tmp_path / 'mix' / 'model.safetensors')['linear_out.weight'].shape) == (10, 512)
