"""The benchmark commands run on this CPU and print their tables and ratios."""
import json
from conftest import mlpscale

def test_bench_infer_prints_table(tmp_path):
    r = mlpscale('bench', 'infer', '--models', 'B_2-Wi_64,ResNet_10-Wi_8', '--batch-sizes', '1,16', '--min-time', '0.05', '--paired', '0', '--gemm-n', '256',
                 '--out', tmp_path / 'infer', cwd=tmp_path, check=True)   # no paired GEMMs: what the table shows is checked, not their rate
    rows = json.loads((tmp_path / 'infer.json').read_text())
    rows = rows['rows'] if isinstance(rows, dict) else rows
    assert {(x['model'], x['batch_size'], x['regime']) for x in rows} == {(m, b, g) for m in ('B_2-Wi_64', 'ResNet_10-Wi_8')
                                                                         for b in (1, 16) for g in ('model', 'end2end')}
    assert all(x['img_s'] > 0 and 0 < x['gemm_frac'] for x in rows)
    assert 'B_2-Wi_64' in r.stdout and 'ResNet_10-Wi_8' in r.stdout
    # the runs store holds the benchmark too: listed by `mlpscale runs` with its main metric
    rec = next((tmp_path / 'runs' / 'bench-infer').iterdir())
    assert json.loads((rec / 'run.json').read_text())['status'] == 'finished'
    m = json.loads((rec / 'metrics.json').read_text())
    assert m['main'] == 'best_gemm_frac' and m['best_gemm_frac'] == max(x['gemm_frac'] for x in rows)
    assert 'bench-infer' in mlpscale('runs', cwd=tmp_path, check=True).stdout

def test_bench_train_prints_both_steps_and_ratio(tmp_path):
    r = mlpscale('bench', 'train', '--model', 'B_2-Wi_64', '--resolution', '16', '--batch-size', '128', '--steps', '3',
                 '--warmup', '1', '--num-workers', '0', '--no-products', '--gemm-n', '256', '--json', tmp_path / 't.json', cwd=tmp_path, check=True)
    res = json.loads((tmp_path / 't.json').read_text())
    assert 'products' not in res and 'timed alone' not in r.stdout    # --no-products: the products' ceiling is not timed (18_speed tests it)
    assert res['mlpscale']['img_s'] > 0 and res['official']['img_s'] > 0
    assert abs(res['ratio'] - res['mlpscale']['img_s'] / res['official']['img_s']) < 1e-9
    assert 'official-style' in r.stdout and f"{res['ratio']:.2f}x" in r.stdout
    rec = next((tmp_path / 'runs' / 'bench-train').iterdir())
    assert json.loads((rec / 'metrics.json').read_text())['ratio'] == res['ratio']

def test_train_softer_and_baseline_families_from_the_cli(tmp_path, monkeypatch):
    "Every family trains through the command: the first as the shell runs it, the others through `mlpscale.cli.main` in this process (the same code, without a process start each)."
    from mlpscale.cli import main
    monkeypatch.setenv('TQDM_DISABLE', '1')
    for i, name in enumerate(('PB_1-Wi_32-P_4-E_8', 'Mixer_1-Wi_16-P_4', 'gMLP_1-Wi_16-P_4', 'ResMLP_1-Wi_16-P_4', 'ViT_1-Wi_32-P_4', 'ConvMixer_1-Wi_16-P_4-K_3')):
        args = ('train', '--model', name, '--dataset', 'synthetic', '--epochs', '1', '--train-limit', '256', '--test-limit', '64',
                '--batch-size', '64', '--resolution', '16', '--out-dir', str(tmp_path / name))
        if i == 0: mlpscale(*args, check=True)
        else: assert main(list(args)) == 0
        m = json.loads((tmp_path / name / 'metrics.json').read_text())
        assert m['model'] == name and m['steps'] == 4
    r = mlpscale('models', 'resnet*', check=True)
    assert 'resnet18_cifar' in r.stdout and '11,173,962' in r.stdout

def test_bench_infer_takes_any_timm_name_next_to_the_paper_mlps(tmp_path):
    "Issue #14: `mlpscale bench infer --models timm/resnet50,B_12-Wi_1024 --resolution 64` (no weights: timing needs none); each row names its dtype and GEMM rate."
    r = mlpscale('bench', 'infer', '--models', 'timm/resnet50,B_12-Wi_1024', '--resolution', '64', '--batch-sizes', '2', '--regimes', 'model',
                 '--min-time', '0', '--paired', '0', '--gemm-n', '256', '--out', tmp_path / 'infer', cwd=tmp_path, check=True)
    rows = json.loads((tmp_path / 'infer.json').read_text())
    rows = rows['rows'] if isinstance(rows, dict) else rows
    by = {x['model']: x for x in rows}
    assert set(by) == {'timm/resnet50', 'B_12-Wi_1024'} and all(x['resolution'] == 64 and x['img_s'] > 0 for x in rows)
    assert by['timm/resnet50']['params'] == 25_557_032 - 2048 * 1000 - 1000 + 2048 * 10 + 10   # timm's ResNet-50 with a 10-class head
    assert 'dtype chosen by auto' in r.stdout and all(f"{x['dtype']} " in r.stdout for x in rows)
    assert all(x['gemm_frac'] == x['gflops_s'] / x['gemm_gflops_s'] for x in rows)
