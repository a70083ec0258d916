"""The GPU acceptance run of issue #16, as one script: run by tools/gpu_acceptance.sh (see there).

Steps (full run on one CUDA GPU / --smoke on the CPU at tiny sizes):
  gemm      the bf16 GEMM rate, 8192^3 (smoke: the CPU's fastest dtype, n = 256)
  train     `bench train` of B_12-Wi_1024 at 64 px, batch 16,384, bf16 + torch.compile, next to the official-style step
  infer     `bench infer` of B_6-Wi_512 and B_12-Wi_1024 in bf16 at batch 4,096 and 16,384 (eager and compiled)
  latency   batch-1 latency of the MLP and ResNet-18, eager and replayed as a CUDA graph (smoke: eager; graphs skipped, no CUDA)
  packed    the packed loader (`mlpscale pack` shards; on CUDA pinned buffers and non-blocking copies) feeding a bf16 training step
  scratch   a from-scratch B-MLP with the paper's augmentation on CIFAR-10 ($MLPSCALE_DATA), trained for a time budget (--time-budget)
Every step is recorded in one JSON (`gpu_acceptance.json`) and the printed lines in a log (`gpu_acceptance.log`), both in --out;
the JSON is rewritten after each step, so a run cut short keeps what it measured. A step that cannot run here is 'skipped' with
its reason; one that raises is 'failed' with the error, and the run goes on. Exit status: 1 if a step failed, else 0; the targets
(met or not) are in the JSON's 'targets' list and printed at the end.
"""
import argparse, datetime, json, os, shutil, subprocess, sys, tempfile, time, traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
T0 = time.perf_counter()
WALL_LIMIT_S = 480            # the 8 minutes of wall time for the whole run
SCRATCH_BUDGET_S, SCRATCH_MIN_S = 240.0, 60.0   # the from-scratch run's training time: at most (the default) and at least
SCRATCH_OVERHEAD_S = 45       # its wall time beyond the budget (compiling, loading CIFAR-10, evaluations): a guess, not yet measured on a GPU


def scratch_budget(spent_s: float) -> float:
    "The from-scratch run's training budget when the steps before it have taken `spent_s`: 240 s, or what keeps the run within 8 minutes."
    return max(SCRATCH_MIN_S, min(SCRATCH_BUDGET_S, WALL_LIMIT_S - SCRATCH_OVERHEAD_S - spent_s))


def _stub_papermill(force: bool = False):
    """mlpscale.experiments imports papermill at the top, but the runs store that `train` writes never executes a notebook, and the
    lent GPU machine's image has no papermill: a stand-in module, with the `__version__` (None) that a run's record reads. `force`:
    put it in place even where papermill is installed (--smoke does, so that CI runs the path the GPU machine takes)."""
    if not force:
        try:
            import papermill  # noqa: F401
            return False
        except ImportError: pass
    import types
    mod = types.ModuleType('papermill')
    def missing(*a, **k): raise ImportError('papermill is not installed here (the acceptance run never executes notebooks)')
    mod.execute_notebook = missing; mod.inspect_notebook = missing; mod.__version__ = None
    mod.PapermillExecutionError = type('PapermillExecutionError', (Exception,), {})
    sys.modules['papermill'] = mod
    return True


def loader_workers(batch_bytes: int, cpus: int, shm_free: int) -> int:
    """DataLoader workers for the official-style host loader: up to 12 (and two cores left), as many as /dev/shm holds -- each worker
    passes its batches through shared memory, up to two at a time (prefetch) plus one being handed over, and a worker whose shared
    memory runs out dies of a bus error. 0 (loading in the main process) when not even one fits in half of it."""
    return max(0, min(12, cpus - 2, int(shm_free * 0.5 // (3 * batch_bytes))))


class Run:
    "The JSON record and the log of one acceptance run."
    def __init__(self, out: Path, mode: str):
        self.out = out; out.mkdir(parents=True, exist_ok=True)
        self.json_path, self.log_path = out / 'gpu_acceptance.json', out / 'gpu_acceptance.log'
        self.log_f = open(self.log_path, 'w')
        self.rec = {'mode': mode, 'started': datetime.datetime.now().astimezone().isoformat(timespec='seconds'), 'steps': {}, 'targets': []}

    def log(self, *parts):
        line = ' '.join(str(p) for p in parts)
        print(line, flush=True); self.log_f.write(line + '\n'); self.log_f.flush()

    def save(self):
        from mlpscale.core import write_json
        self.rec['wall_s'] = round(time.perf_counter() - T0, 1)
        write_json(self.json_path, self.rec)

    def target(self, name: str, value, goal: str, met):
        self.rec['targets'].append({'name': name, 'value': value, 'goal': goal, 'met': met})
        self.log(f"  target {name}: {value if not isinstance(value, float) else round(value, 4)} (goal {goal}): {'MET' if met else 'NOT MET'}")

    def step(self, name: str, fn):
        self.log(f"== {name} (at {time.perf_counter() - T0:.0f} s)")
        t = time.perf_counter()
        try:
            r = fn()
            status = r.pop('status', 'ok') if isinstance(r, dict) else 'ok'
            entry = {'status': status, **(r or {})}
        except Exception as e:
            entry = {'status': 'failed', 'error': f"{type(e).__name__}: {(str(e).strip().splitlines() or [''])[0]}"}
            self.log(traceback.format_exc())
        entry['seconds'] = round(time.perf_counter() - t, 1)
        self.rec['steps'][name] = entry
        self.log(f"   {name}: {entry['status']}" + (f" ({entry.get('reason') or entry.get('error')})" if entry['status'] != 'ok' else '')
                 + f", {entry['seconds']} s")
        self.save()
        return entry


def skipped(reason: str) -> dict: return {'status': 'skipped', 'reason': reason}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument('--smoke', action='store_true', help='the same steps at tiny sizes on the CPU (under 2 minutes)')
    p.add_argument('--out', default=None, help='folder for gpu_acceptance.json and .log (default runs/gpu_acceptance/<mode>-<time>)')
    p.add_argument('--device', default=None, help='default: cuda for the full run, cpu for --smoke')
    p.add_argument('--scratch-model', default='B_6-Wi_1024', help="the from-scratch B-MLP (the paper's Table 1 row: B_6-Wi_1024)")
    p.add_argument('--scratch-budget-s', type=float, default=None, help='training time of the from-scratch run, seconds (default 240, less where the steps before it leave less of the 8 minutes; smoke: 3)')
    p.add_argument('--steps', default='gemm,train,infer,latency,packed,scratch', help='comma-separated steps to run')
    a = p.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    stubbed = _stub_papermill(force=a.smoke)
    import torch
    from mlpscale.core import get_device, machine_name, fast_dtype, data_root, MlpscaleError
    from mlpscale.data import check_dataset
    from mlpscale import speed
    smoke = a.smoke
    dev = get_device(a.device or ('cpu' if smoke else 'cuda'))
    if not smoke and dev.type != 'cuda':
        p.error(f"the full acceptance run needs a CUDA GPU (device {dev}); run --smoke on a CPU")
    mode = 'smoke' if smoke else 'gpu'
    out = Path(a.out) if a.out else ROOT / 'runs' / 'gpu_acceptance' / f"{mode}-{datetime.datetime.now():%Y%m%d-%H%M%S}"
    run = Run(out, mode)
    cuda = dev.type == 'cuda'
    dname = 'bf16' if cuda else fast_dtype(dev)
    run.rec.update(device=str(dev), machine=machine_name(dev), machine_info=speed.machine_info(dev), dtype=dname, torch=torch.__version__,
                   git=_git(), papermill_stubbed=stubbed, data=str(data_root()))
    run.log(f"gpu_acceptance ({mode}) on {run.rec['machine']}, torch {torch.__version__}, dtype {dname}; writing {out}")
    wanted = [s for s in a.steps.split(',') if s]
    known = ('gemm', 'train', 'infer', 'latency', 'packed', 'scratch')
    bad = [s for s in wanted if s not in known]
    if bad: p.error(f"--steps {','.join(bad)}: unknown; choose from {','.join(known)}")
    def missing_cifar(*splits):   # why CIFAR-10's splits cannot be read here, or None
        for split in splits:
            try: check_dataset('cifar10', split)
            except MlpscaleError as e: return f"CIFAR-10 {split} split: {e} (set MLPSCALE_DATA)"
        return None
    S = {}   # results shared between steps

    def gemm():
        g = speed.gemm_rate(dev, dname, n=256 if smoke else 8192, repeats=3 if smoke else 10)
        S['gemm'] = g
        run.log(f"  {dname} GEMM, n = {g['gemm_n']}: {g['gemm_gflops_s'] / 1e3:.2f} TFLOP/s (median {g['gemm_gflops_s_median'] / 1e3:.2f})")
        return {'gemm': g}

    def train():
        if smoke: kw = dict(model='B_2-Wi_64', resolution=16, batch_size=128, steps=3, warmup=1, num_workers=0, compile=False, gemm_n=256)
        else:
            shm = shutil.disk_usage('/dev/shm').free if os.path.isdir('/dev/shm') else 0
            kw = dict(model='B_12-Wi_1024', resolution=64, batch_size=16384, steps=20, warmup=5, compile=True, n_images=16384 * 4,
                      num_workers=loader_workers(16384 * 3 * 64 * 64, os.cpu_count() or 4, shm))
            run.log(f"  official-style loader: {kw['num_workers']} workers (/dev/shm: {shm / 2**30:.1f} GiB free, {os.cpu_count()} cores)")
        g = S.get('gemm') if S.get('gemm', {}).get('gemm_dtype') == dname else None
        r = speed.bench_train(device=dev, amp='bf16' if cuda else 'auto', progress=False, gemm=g, **kw)
        for line in speed.format_bench_train(r).splitlines(): run.log('  ' + line)
        if not smoke:
            run.target('train_fraction_of_bf16_gemm', r['mlpscale_fraction_of_gemm'], '>= 0.70', r['mlpscale_fraction_of_gemm'] >= 0.70)
            run.target('train_ratio_to_official', r['ratio'], '>= 5', r['ratio'] >= 5)
            run.target('train_data_wait_share', r['mlpscale']['data_share'], '< 0.05', r['mlpscale']['data_share'] < 0.05)
        return {'bench_train': r}

    def infer():
        if smoke: models, bss, res, comp = ['B_2-Wi_64'], (64,), (16,), (False,)
        else: models, bss, res, comp = ['B_6-Wi_512', 'B_12-Wi_1024'], (4096, 16384), (64,), (False, True)
        g = S.get('gemm') if S.get('gemm', {}).get('gemm_dtype') == dname else speed.gemm_rate(dev, dname, n=256 if smoke else 8192)
        rows = speed.bench_infer(models, bss, res, dev, [dname], compile=comp, regimes=('model',), warmup=1 if smoke else 5,
                                 repeats=2 if smoke else 20, min_time=0 if smoke else 1.0, progress=False, gemms={dname: g})
        for line in speed.format_table(rows, ['model', 'dtype', 'compile', 'batch_size', 'resolution', 'img_s', 'latency_ms', 'gflops_s',
                                              'gemm_gflops_s', 'gemm_frac']).splitlines(): run.log('  ' + line)
        if not smoke:
            for m in models:
                best = max(r['gemm_frac'] for r in rows if r['model'] == m)
                run.target(f'infer_{m}_fraction_of_bf16_gemm', best, '>= 0.60', best >= 0.60)
        return {'rows': rows}

    def latency():
        rows, out = [], {}
        for m, res in (('B_6-Wi_512', 64 if not smoke else 32), ('resnet18_cifar', 32)):
            for graph in (False, True):
                key = f"{m}_{'cuda_graph' if graph else 'eager'}"
                if graph and not cuda:
                    out[key] = skipped('CUDA graphs need a CUDA device'); run.log(f"  {key}: skipped (no CUDA device)"); continue
                r = speed.bench_model(m, 1, res, dev, dname, warmup=2 if smoke else 20, repeats=3 if smoke else 200,
                                      gemm=S.get('gemm', {}).get('gemm_gflops_s', 1.0) if S.get('gemm', {}).get('gemm_dtype') == dname else 1.0,
                                      cuda_graph=graph)
                out[key] = {'latency_ms': r['latency_ms'], 'latency_p10_ms': r['latency_p10_ms'], 'latency_p90_ms': r['latency_p90_ms'],
                            'resolution': res, 'dtype': dname}
                run.log(f"  {key}: batch-1 latency {r['latency_ms']:.3f} ms (p10 {r['latency_p10_ms']:.3f}, p90 {r['latency_p90_ms']:.3f})")
        return {'latency': out}

    def packed():
        if why := missing_cifar('test'): return skipped(f"{why}: the pack is made from its test images")
        return _packed(run, speed, dev, dname, smoke)

    def scratch():
        if why := missing_cifar('train', 'test'): return skipped(why)
        return _scratch(run, speed, dev, dname, smoke, a.scratch_model, a.scratch_budget_s)

    for name, fn in (('gemm', gemm), ('train', train), ('infer', infer), ('latency', latency), ('packed', packed), ('scratch', scratch)):
        if name in wanted:
            torch._dynamo.reset()   # each step compiles as a process of its own would: no graphs, and no dynamic shapes, from the steps before
            run.step(name, fn)
    run.rec['wall_s'] = round(time.perf_counter() - T0, 1)
    if not smoke: run.target('wall_time_s', run.rec['wall_s'], f'<= {WALL_LIMIT_S}', run.rec['wall_s'] <= WALL_LIMIT_S)
    failed = [k for k, v in run.rec['steps'].items() if v['status'] == 'failed']
    run.rec['failed_steps'] = failed
    run.save()
    run.log(f"== done in {run.rec['wall_s']} s: " + ', '.join(f"{k} {v['status']}" for k, v in run.rec['steps'].items()))
    for t in run.rec['targets']: run.log(f"   {'MET    ' if t['met'] else 'NOT MET'} {t['name']} = {t['value']} (goal {t['goal']})")
    run.log(f"JSON: {run.json_path}\nlog:  {run.log_path}")
    return 1 if failed else 0


def _git() -> str | None:
    try: return subprocess.run(['git', 'rev-parse', 'HEAD'], cwd=ROOT, capture_output=True, text=True, timeout=10).stdout.strip() or None
    except Exception: return None


def _packed(run, speed, dev, dname, smoke):
    "Pack CIFAR-10 test images (as PNG files, `mlpscale pack`) and time a bf16 training step fed by the ShardedLoader."
    import numpy as np, torch
    import torch.nn.functional as F
    from PIL import Image
    from mlpscale.data import load_dataset
    from mlpscale.pack import pack_folder, PackedData, ShardedLoader
    from mlpscale.models import create_model, count_flops
    from mlpscale.optim import make_optimizer, param_groups
    n, res, bs, model = (512, 16, 128, 'B_2-Wi_64') if smoke else (10_000, 64, 4096, 'B_6-Wi_512')
    test = load_dataset('cifar10', 'test')
    with tempfile.TemporaryDirectory() as d:
        src = Path(d) / 'src'
        for i in range(n):
            c = Path(src / test.classes[int(test.labels[i])]); c.mkdir(parents=True, exist_ok=True)
            Image.fromarray(test.images[i].permute(1, 2, 0).numpy()).save(c / f'{i:05d}.png')
        t = time.perf_counter()
        pack_folder(src, Path(d) / 'pack', resolution=res, shard_size=max(64, n // 4), progress=False)
        pack_s = time.perf_counter() - t
        data = PackedData(Path(d) / 'pack', split='train')
        dl = ShardedLoader(data, bs, train=True, resolution=res, device=dev, block=max(bs, n // 4))
        def batches():
            e = 0
            while True:
                yield from dl.batches(e); e += 1
        torch.manual_seed(0)
        m = create_model(model, num_classes=data.num_classes, resolution=res).to(dev)
        opt = make_optimizer('lion', param_groups(m, 1e-4, 0.0), 1e-4)
        fwd = m if smoke else torch.compile(m)
        def step(x, y):
            with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=dname == 'bf16'):
                loss = F.cross_entropy(fwd(x).float(), y)
            loss.backward(); opt.step(); opt.zero_grad(set_to_none=True)
        flops = count_flops(create_model(model, num_classes=data.num_classes, resolution=res), res, backward=True)
        r = speed.time_steps(step, batches(), bs, flops, steps=3 if smoke else 20, warmup=1 if smoke else 5, device=dev)
        # the loader alone: batches per second with no step in between
        it = batches(); next(it)
        t = time.perf_counter(); k = 3 if smoke else 20
        for _ in range(k):
            x, y = next(it)
        if dev.type == 'cuda': torch.cuda.synchronize()
        loader_img_s = k * bs / (time.perf_counter() - t)
    res_d = {'images': n, 'resolution': res, 'batch_size': bs, 'model': model, 'pinned': dl.pin, 'non_blocking': True, 'pack_s': round(pack_s, 1),
             'loader_img_s': loader_img_s, 'step': r, 'data_share': r['data_share']}
    run.log(f"  packed {n} images at {res} px in {pack_s:.1f} s; loader alone {loader_img_s:,.0f} img/s ({'pinned buffers, non-blocking copies' if dl.pin else 'CPU: no pinned memory'});"
            f" {model} {dname} step fed by it: {r['img_s']:,.0f} img/s, data wait {r['data_share']:.1%} of step time")
    return res_d   # the issue asks for images/s and the share of step time here, with no target


def _scratch(run, speed, dev, dname, smoke, model, budget_s):
    """A from-scratch B-MLP with the paper's augmentation and recipe, trained for a time budget (`TrainConfig.time_budget`: the cosine
    runs over the training time and the run stops when it is spent, so no calibration run is needed). Checkpoints only at the end
    (`ckpt_every_epochs=0`: on a GPU an epoch of CIFAR-10 is shorter than writing the model's checkpoint) and a test evaluation every
    50 epochs and at the end; neither counts as training time, both count in the wall time."""
    from mlpscale.config import TrainConfig
    from mlpscale.train import train, read_log
    from mlpscale.paper import PAPER_RECIPE, AUGMENT, SCRATCH
    paper = next(r for r in SCRATCH if r['model'] == 'B_6-Wi_1024' and r['augment'])
    base = {**PAPER_RECIPE, **AUGMENT, 'crop_scale': tuple(AUGMENT['crop_scale'])}
    # the run's folder (a B_6-Wi_1024 model and checkpoint are hundreds of MB) is a temporary one: what it measured goes into the JSON
    work = Path(tempfile.mkdtemp(prefix='gpu-acceptance-scratch-'))
    common = dict(dataset='cifar10', device=str(dev), progress=False, ckpt_every_epochs=0, eval_every=50, out_dir=str(work / 'run'))
    if smoke:   # the same path (a time budget, checkpoints at the end) at a tiny size: B_2-Wi_64 on 2,048 images for 3 s
        model, budget_s = 'B_2-Wi_64', 3.0
        cfg = TrainConfig(model=model, **{**base, 'batch_size': 256}, time_budget=budget_s, train_limit=2048, test_limit=1000, amp='auto', **common)
    else:
        if budget_s is None:
            spent = time.perf_counter() - T0
            budget_s = scratch_budget(spent)
            if budget_s < SCRATCH_BUDGET_S: run.log(f"  the steps before took {spent:.0f} s: a {budget_s:.0f} s budget"
                                                    + (f" keeps the run within {WALL_LIMIT_S} s" if budget_s > SCRATCH_MIN_S else " (the minimum)"))
        cfg = TrainConfig(model=model, **base, time_budget=budget_s, amp='bf16', compile=True, **common)
    try:
        t = time.perf_counter(); m = train(cfg); wall = time.perf_counter() - t
        log = [{k: r[k] for k in ('epoch', 'step', 'train_time', 'lr', 'train_loss', 'img_s', 'test_top1') if k in r} for r in read_log(work / 'run')]
        ckpts = len(list((work / 'run' / 'checkpoints').glob('step-*')))
    finally: shutil.rmtree(work, ignore_errors=True)
    res = {'model': model, 'config': cfg.to_dict(), 'test_top1': m['test_top1'], 'train_time_s': m['train_time_s'], 'wall_s': round(wall, 1),
           'epochs': m['epochs'], 'steps': m['steps'], 'time_budget_s': budget_s, 'amp_used': m.get('amp_used'), 'checkpoints': ckpts,
           'first_epoch_s': log[0]['train_time'] if log else None,   # compiling the step included
           'log': log, 'paper_top1': paper['top1'] / 100, 'paper_epochs': paper['epochs']}
    run.log(f"  {model} from scratch, {budget_s:.0f} s budget: {m['epochs']} epochs ({m['steps']} steps), {m.get('amp_used')}: test top-1 {m['test_top1']:.2%}"
            f" after {m['train_time_s']:.0f} s of training ({wall:.0f} s wall); the paper (Table 1, {paper['epochs']} epochs): {paper['top1']:.1f}%")
    if not smoke:
        run.target('scratch_top1_within_1pt_of_paper', m['test_top1'], f">= {paper['top1'] / 100 - 0.01:.3f}", m['test_top1'] >= paper['top1'] / 100 - 0.01)
        run.target('scratch_train_time_s', m['train_time_s'], '<= 300', m['train_time_s'] <= 300)
    return res


if __name__ == '__main__':
    sys.exit(main())
