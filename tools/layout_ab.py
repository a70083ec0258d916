"""The training step of a B-MLP in its own layout (batch first) and features first (`mlpscale.models.FeaturesFirst`), timed in
interleaved pairs: the two steps alternate, and each is followed by a square GEMM of the same dtype (`mlpscale.speed._paired`),
so both see the same states of a matrix engine whose rate moves from second to second (this project's shared Xeon). The step
here is forward, cross-entropy, backward and LION's update on a fixed batch (no data loading: `mlpscale bench train --layout`
measures the whole step, one layout per run).

    python tools/layout_ab.py [--model B_6-Wi_512] [--batch-size 1024] [--pairs 20] [--no-compile] [--amp bf16|off]

Prints, per layout, the median images/s and the median share of the paired GEMM's rate, and the machine."""
import argparse, sys
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import numpy as np, torch, torch.nn.functional as F
from tqdm.auto import tqdm
from mlpscale.core import retain_freed_memory, machine_name, MlpscaleError
from mlpscale.models import create_model, count_flops, features_first
from mlpscale.speed import gemm_rate, gemm_caller, _paired
from mlpscale.optim import make_optimizer, param_groups, compiled_step

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--model', default='B_6-Wi_512'); p.add_argument('--batch-size', type=int, default=1024)
    p.add_argument('--resolution', type=int, default=32); p.add_argument('--pairs', type=int, default=20)
    p.add_argument('--compile', action=argparse.BooleanOptionalAction, default=True); p.add_argument('--amp', default='bf16', choices=['bf16', 'off'])
    a = p.parse_args(argv)
    if a.batch_size < 1 or a.pairs < 1: sys.exit(f"error: --batch-size {a.batch_size} and --pairs {a.pairs} must be >= 1")
    dev = torch.device('cpu'); retain_freed_memory(); bf = a.amp == 'bf16'
    try: probe = create_model(a.model, num_classes=10, resolution=a.resolution)
    except MlpscaleError as e: sys.exit(f"error: {e}")
    if features_first(probe) is None: sys.exit(f"error: --model {a.model} has no features-first layout (a plain B-MLP: B_<blocks>-Wi_<width>)")
    flops = count_flops(probe, a.resolution, backward=True) * a.batch_size
    g = gemm_rate(dev, 'bf16' if bf else 'fp32'); pair = gemm_caller(g, dev)
    x = torch.randn(a.batch_size, 3, a.resolution, a.resolution); y = torch.randint(0, 10, (a.batch_size,))

    def make(ff: bool):
        torch.manual_seed(0); m = create_model(a.model, num_classes=10, resolution=a.resolution)
        net = features_first(m) if ff else m
        opt = make_optimizer('lion', param_groups(m, 1e-4, 0.0), 1e-4, fused=True)
        fwd = torch.compile(net) if a.compile else net; ostep = compiled_step(opt) if a.compile else opt.step
        def step():
            with torch.autocast('cpu', dtype=torch.bfloat16, enabled=bf):
                loss = F.cross_entropy(fwd(x).float(), y, label_smoothing=0.1)
            loss.backward(); ostep(); opt.zero_grad(set_to_none=True)
        return step

    steps = {'batch-first': make(False), 'features-first': make(True)}
    for s in steps.values():
        for _ in range(4): s()          # compile, caches
    res = {k: [] for k in steps}
    for _ in tqdm(range(a.pairs), desc='pairs'):
        for k, s in steps.items(): res[k].append(_paired(s, pair, dev))
    print(f"{a.model}, batch {a.batch_size}, {a.resolution} px, {'bf16' if bf else 'fp32'}, {'compiled' if a.compile else 'eager'}, "
          f"{a.pairs} interleaved pairs; {machine_name(dev)}")
    img = {}
    for k, v in res.items():
        t = float(np.median([s for s, _ in v])); img[k] = a.batch_size / t
        print(f"  {k:15} {img[k]:9,.0f} img/s {t * 1e3:8.1f} ms/step {np.median([flops / s / r for s, r in v]):7.1%} of the paired GEMM "
              f"(median {np.median([r for _, r in v]) / 1e12:.2f} TFLOP/s)")
    print(f"  features first / batch first: {img['features-first'] / img['batch-first']:.2f}x")

if __name__ == '__main__': main()
