"""tools/site/bf16_figure.py: the results page's table rows come from the runs' own records, and runs that differ only by seed are
drawn as one group (one legend entry), not as one label per point."""
import csv, importlib.util, json
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]

@pytest.fixture()
def fig(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location('bf16_figure', ROOT / 'tools' / 'site' / 'bf16_figure.py')
    mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
    monkeypatch.setattr(mod, 'CSV', tmp_path / 'out.csv'); monkeypatch.setattr(mod, 'PNG', tmp_path / 'out.png')
    return mod

def _run(root: Path, name: str, argv: list | None, seed=0, amp='auto', used='bf16', top1=0.64, t=100.0, dataset='cifar10', ls=0.2):
    d = root / name; d.mkdir()
    cfg = {'model': 'B_4-Wi_256', 'dataset': dataset, 'epochs': 36, 'batch_size': 1024, 'lr': 4e-3, 'amp': amp, 'seed': seed,
           'label_smoothing': ls, 'crop_scale': [0.35, 1.0], 'compile': False, 'machine': 'test machine'}
    (d / 'config.json').write_text(json.dumps(cfg))
    (d / 'metrics.json').write_text(json.dumps({'epochs': 36, 'test_top1': top1, 'train_time_s': t, 'amp_used': used, 'machine': 'test machine',
                                                'train_layout': 'batch-first'}))
    if argv is not None: (d / 'run.json').write_text(json.dumps({'command': argv}))
    return d

def test_rows_and_seed_groups(fig, tmp_path):
    base = ['mlpscale', 'train', '--data-root', '../shared/data', '--epochs', '36', '--batch-size', '1024', '--lr', '4e-3', '--label-smoothing', '0.2']
    a = _run(tmp_path, 'a', base + ['--seed', '0', '--no-progress'], top1=0.6431)
    b = _run(tmp_path, 'b', base + ['--seed', '1'], seed=1, top1=0.6461)
    c = _run(tmp_path, 'c', base + ['--seed', '0', '--amp', 'off'], amp='off', used='fp32', top1=0.6412, t=174.4)
    old = _run(tmp_path, 'old', None, ls=0.1)            # an older run without run.json: the command is rebuilt from its configuration
    fig.main([str(a), str(b), str(c), str(old)])
    rows = list(csv.DictReader(open(fig.CSV)))
    assert [r['command'] for r in rows[:3]] == [' '.join(base + ['--seed', '0', '--no-progress']), ' '.join(base + ['--seed', '1']),
                                                ' '.join(base + ['--seed', '0', '--amp', 'off'])]
    assert rows[3]['command'] == 'mlpscale train --data-root ../shared/data --epochs 36 --batch-size 1024 --lr 0.004'
    assert [float(r['test_top1']) for r in rows] == [0.6431, 0.6461, 0.6412, 0.64]
    tags = [fig._tag(r, seed=False) for r in rows]
    assert tags[0] == tags[1] == tags[2] == '36 ep, batch 1024, ls 0.2' and tags[3] == '36 ep, batch 1024'
    assert fig._tag(rows[0]) != fig._tag(rows[1]) and fig._tag(rows[1]).endswith('seed 1')
    assert fig.PNG.stat().st_size > 10_000
    fig.main(['--append', str(old)])                       # --append keeps the rows already there
    assert len(list(csv.DictReader(open(fig.CSV)))) == 5

def test_refuses_other_datasets(fig, tmp_path):
    d = _run(tmp_path, 'x', None, dataset='synthetic')
    with pytest.raises(SystemExit, match='not a CIFAR-10 run'): fig.main([str(d)])
    assert not fig.CSV.exists()                            # nothing written

def test_ten_minute_tags_name_what_differs(fig):
    "In the ten-minute panel a point's label names what differs from the ten-minute command: here the learning rate and the optimiser."
    ten = 'mlpscale train --data-root ../shared/data --model B_6-Wi_512 --time-budget 600 --batch-size 1024 --mixup 0.4'
    r = lambda cmd, lr, model='B_6-Wi_512': {'model': model, 'epochs': '75', 'batch_size': '1024', 'lr': lr, 'command': cmd, 'train_layout': ''}
    assert fig._tag(r(ten + ' --lr 3e-3', '0.003')) == '75 ep, mixup 0.4, 600 s budget'
    assert fig._tag(r(ten + ' --lr 4e-3 --seed 1', '0.004')) == '75 ep, lr 0.004, mixup 0.4, 600 s budget, seed 1'
    assert fig._tag(r(ten + ' --optimizer lion --lr 5e-4', '0.0005', 'B_4-Wi_768')) == '75 ep, B_4-Wi_768, lr 0.0005, lion, mixup 0.4, 600 s budget'
    assert fig._tag(r(ten + ' --lr 3e-3 --schedule linear --seed 2', '0.003')) == '75 ep, mixup 0.4, linear decay, 600 s budget, seed 2'
    # a ten-minute run in fp32 (the path of a CPU without a bf16 engine) says so; one in bf16 does not, the main job's budgeted runs always do
    assert fig._label({**r(ten + ' --lr 3e-3 --amp off', '0.003'), 'amp_used': 'fp32'}) == '75 ep, mixup 0.4, 600 s budget, fp32'
    assert fig._label({**r(ten + ' --lr 3e-3', '0.003'), 'amp_used': 'bf16'}) == '75 ep, mixup 0.4, 600 s budget'
    main = 'mlpscale train --data-root ../shared/data --time-budget 120 --batch-size 1024'
    assert fig._label({**r(main, '0.004', 'B_4-Wi_256'), 'amp_used': 'bf16'}).endswith('120 s budget, bf16')
