"""`mlpscale pack` writes shards once; `--dataset packed` trains on them through the streaming loader."""
import json
from pathlib import Path
from PIL import Image
from conftest import mlpscale

def make_tree(root: Path, n=24):
    colours = {'red': (220, 30, 30), 'green': (30, 200, 40), 'blue': (30, 40, 220)}
    for split in ('train', 'val'):
        for c, rgb in colours.items():
            (root / split / c).mkdir(parents=True)
            for i in range(n if split == 'train' else 6):
                Image.new('RGB', (20 + i % 7, 18), tuple(max(0, v - 3 * i) for v in rgb)).save(root / split / c / f'{i}.png')
    (root / 'train' / 'red' / 'broken.jpg').write_bytes(b'not a jpeg')

def test_pack_and_train_on_shards(tmp_path):
    make_tree(tmp_path / 'tree')
    r = mlpscale('pack', tmp_path / 'tree', '--out', tmp_path / 'packed', '--resolution', '16', '--shard-size', '30', check=True)
    assert 'train: 72 images in 3 shards at 16 px, 3 classes; skipped 1' in r.stdout and 'broken.jpg' in r.stdout
    idx = json.loads((tmp_path / 'packed' / 'train' / 'index.json').read_text())
    assert idx['n'] == 72 and [s['count'] for s in idx['shards']] == [30, 30, 12]
    # packing again never overwrites
    again = mlpscale('pack', tmp_path / 'tree', '--out', tmp_path / 'packed', '--resolution', '16')
    assert again.returncode == 2 and 'never overwrites' in again.stderr
    mlpscale('train', '--dataset', 'packed', '--data-path', tmp_path / 'packed', '--model', 'B_1-Wi_32', '--epochs', '3',
             '--batch-size', '16', '--lr', '3e-3', '--out-dir', tmp_path / 'run', check=True)
    m = json.loads((tmp_path / 'run' / 'metrics.json').read_text())
    assert m['test_top1'] > 0.6, m          # three colours: easy, chance is 1/3
    no_path = mlpscale('train', '--dataset', 'packed', '--out-dir', tmp_path / 'x')
    assert no_path.returncode == 2 and 'needs --data-path' in no_path.stderr
