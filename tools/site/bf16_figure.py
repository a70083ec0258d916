"""The table and figure of the results page `nbs/results/bf16_cpu.md`, from the training runs it names: test top-1 against
training time of the main job in fp32 (`--amp off`) and in bf16 (`--amp auto` on a CPU with AMX-BF16), and of the longer
commands, each point a run folder's `config.json` + `metrics.json`.

    python tools/site/bf16_figure.py RUN_DIR [RUN_DIR ...]            # writes nbs/results/bf16_cpu.csv and bf16_cpu.png
    python tools/site/bf16_figure.py --append RUN_DIR [RUN_DIR ...]   # adds the runs to the CSV's rows, redraws
    python tools/site/bf16_figure.py                                  # redraws the figure from the CSV

The left panel is the main job's model (B_4-Wi_256) against the two-minute line, the right one every other model against the
ten-minute line.
"""
import csv, json, sys
from collections import Counter
from pathlib import Path
from matplotlib.figure import Figure

RES = Path(__file__).resolve().parents[2] / 'nbs' / 'results'
CSV, PNG = RES / 'bf16_cpu.csv', RES / 'bf16_cpu.png'
MAIN_MODEL = 'B_4-Wi_256'                                    # the main job's model: the left panel
TEN_MINUTE = {'model': 'B_6-Wi_512', 'batch_size': 1024, 'lr': 3e-3}   # the ten-minute command: what the right panel's labels are told against
COLS = ('model', 'epochs', 'batch_size', 'lr', 'amp', 'amp_used', 'test_top1', 'train_time_s', 'machine', 'command', 'test_top1_tta', 'tta_views',
        'train_layout')

def row(run: Path) -> dict:
    cfg, m = json.loads((run / 'config.json').read_text()), json.loads((run / 'metrics.json').read_text())
    if cfg.get('dataset') != 'cifar10' or m.get('synthetic'): sys.exit(f"{run}: not a CIFAR-10 run; this page is about the CIFAR-10 main job")
    rec = json.loads((run / 'run.json').read_text()) if (run / 'run.json').exists() else {}
    # the command as it was typed (the runs store's record); older runs without one: rebuilt from the flags that differ from TrainConfig's defaults
    flags = [f"--epochs {cfg['epochs']}"] + ([f"--batch-size {cfg['batch_size']}"] if cfg['batch_size'] != 256 else []) \
          + ([f"--lr {cfg['lr']:g}"] if cfg['lr'] != 2e-3 else []) + ([f"--amp {cfg['amp']}"] if cfg['amp'] != 'auto' else []) \
          + ([f"--model {cfg['model']}"] if cfg['model'] != 'B_4-Wi_256' else []) \
          + ([f"--crop-scale {cfg['crop_scale'][0]:g} {cfg['crop_scale'][1]:g}"] if tuple(cfg.get('crop_scale', (0.35, 1.0))) != (0.35, 1.0) else []) \
          + (['--compile'] if cfg.get('compile') else [])
    return {'model': cfg['model'], 'epochs': m['epochs'], 'batch_size': cfg['batch_size'], 'lr': cfg['lr'], 'amp': cfg['amp'],
            'amp_used': m.get('amp_used') or cfg.get('amp_used'), 'test_top1': m['test_top1'], 'train_time_s': round(m['train_time_s'], 1),
            'machine': m.get('machine') or cfg.get('machine'), 'command': ' '.join(rec['command']) if rec.get('command') else 'mlpscale train --data-root ../shared/data ' + ' '.join(flags),
            'test_top1_tta': m.get('test_top1_tta', ''), 'tta_views': m.get('tta_views', ''), 'train_layout': m.get('train_layout', '')}

def _flag(r: dict, flag: str):
    "The value of `flag` in the run's command, or None."
    w = r['command'].split()
    return w[w.index(flag) + 1] if flag in w[:-1] else None

def _tag(r: dict, seed: bool = True) -> str:
    """What a point is: epochs and batch (the main job's panel) or what differs from the ten-minute command (the other panel: batch,
    model, learning rate, optimiser), and the flags that change the recipe."""
    tag = (f"{r['epochs']} ep, batch {r['batch_size']}" + (', compiled' if '--compile' in r['command'].split() else '') if r['model'] == MAIN_MODEL
           else f"{r['epochs']} ep" + ('' if int(r['batch_size']) == TEN_MINUTE['batch_size'] else f", batch {r['batch_size']}")
                + ('' if r['model'] == TEN_MINUTE['model'] else f", {r['model']}")
                + ('' if float(r['lr']) == TEN_MINUTE['lr'] else f", lr {float(r['lr']):g}") + (f", {v}" if (v := _flag(r, '--optimizer')) else ''))
    tag += ''.join(f", {name} {v}" for flag, name in (('--mixup', 'mixup'),) if (v := _flag(r, flag)))
    tag += f", {v} decay" if (v := _flag(r, '--schedule')) else ''
    tag += f", {b} s budget" if (b := _flag(r, '--time-budget')) else ''
    tag += ''.join(f", {name} {v}" for flag, name in (('--weight-decay', 'wd'), ('--label-smoothing', 'ls')) + ((('--seed', 'seed'),) if seed else ())
                   if (v := _flag(r, flag)))
    return tag + (', features first' if r.get('train_layout') == 'features-first' else '')

def _label(r: dict) -> str:
    "A point's label: its tag, and its dtype where budgeted runs of both stand in a panel (the main job's; a ten-minute run not in bf16)."
    return _tag(r) + (f", {r['amp_used']}" if _flag(r, '--time-budget') and (r['model'] == MAIN_MODEL or r['amp_used'] != 'bf16') else '')

def main(argv):
    append = argv[:1] == ['--append']; argv = argv[1:] if append else argv
    if argv:
        rows = (list(csv.DictReader(open(CSV))) if append else []) + [row(Path(a)) for a in argv]
        with open(CSV, 'w', newline='') as f:
            w = csv.DictWriter(f, COLS); w.writeheader(); w.writerows(rows)
    rows = list(csv.DictReader(open(CSV)))
    main_rows = [r for r in rows if r['model'] == MAIN_MODEL]; other = [r for r in rows if r['model'] != MAIN_MODEL]
    fig = Figure(figsize=(14, 5.6) if other else (7.5, 4.8))
    axes = fig.subplots(1, 2 if other else 1, squeeze=False)[0]
    panels = [(axes[0], main_rows, 120, 64, f"{MAIN_MODEL} (the main job's model): fp32 against bf16")]
    if other: panels.append((axes[1], other, 600, 67, f"the ten-minute commands ({TEN_MINUTE['model']}, batch {TEN_MINUTE['batch_size']}, compiled, unless said)"))
    for ax, rs, tx, ty, title in panels:
        budget = []
        # runs repeated over seeds (the main job's panel): one legend entry and colour per recipe and dtype, not a label per point
        # (a budgeted run's recipe names its budget, so it never shares a key with a run of fixed epochs)
        keyed = [(r, (r['amp_used'], _tag(r, seed=False))) for r in rs]
        seeds = Counter(k for r, k in keyed if not _flag(r, '--time-budget')) if ax is axes[0] else Counter()
        colours = dict(zip([k for k, n in seeds.items() if n > 1], ('tab:red', 'tab:green', 'tab:purple', 'tab:brown', 'tab:pink', 'tab:olive')))
        for r, key in keyed:
            x, y = float(r['train_time_s']), 100 * float(r['test_top1'])
            mk, c = ('o', 'tab:orange') if r['amp_used'] == 'bf16' else ('s', 'tab:blue')   # a point's dtype: its marker and colour
            if key in colours:
                ax.scatter([x], [y], marker=mk, s=60, color=colours[key], label=f"{key[0]}: {key[1]} ({seeds[key]} seeds)")
                continue
            ax.scatter([x], [y], marker=mk, s=60, color=c, label=r['amp_used'])
            if r.get('test_top1_tta'):   # the same run evaluated with flip TTA (--tta 2): hollow, joined to its single-view point
                yt = 100 * float(r['test_top1_tta'])
                ax.plot([x, x], [y, yt], color=c, lw=0.8)
                ax.scatter([x], [yt], marker=mk, s=60, facecolors='none', edgecolors=c, label=f"{r['amp_used']}, flip TTA")
            tag = _label(r)
            if _flag(r, '--time-budget'): budget.append((y, x, tag)); continue
            ax.annotate(tag, (x, y), textcoords='offset points', xytext=(6, 5) if r['amp_used'] == 'fp32' else (6, -10), fontsize=7)
        # the budgeted runs all end at the same time: their labels in a column to the right, in the order of their accuracy
        for k, (y, x, tag) in enumerate(sorted(budget)):
            ax.annotate(tag, (x, y), xycoords='data', textcoords='axes fraction', xytext=(1.02, 0.05 + 0.9 * k / max(1, len(budget) - 1)),
                        fontsize=6.5, va='center', arrowprops=dict(arrowstyle='-', color='0.6', lw=0.5))
        h, l = ax.get_legend_handles_labels(); keep = dict(zip(l, h))
        if ax is axes[0] and len(keep) > 3:   # the main job's panel: many entries, below the axes, where they cover no point
            ax.legend(keep.values(), keep.keys(), fontsize=7, loc='upper center', bbox_to_anchor=(0.5, -0.14), ncol=2)
        else: ax.legend(keep.values(), keep.keys(), fontsize=7, loc='lower right')
        ax.axvline(tx, color='grey', lw=0.8, ls='--'); ax.axhline(ty, color='grey', lw=0.8, ls=':')
        ax.set_xlabel('training time (s)'); ax.set_ylabel('CIFAR-10 test top-1 (%)')
        ax.set_title(title, fontsize=9); ax.margins(x=0.3, y=0.12)
    fig.suptitle(rows[0]['machine'], fontsize=9)
    fig.tight_layout(); fig.savefig(PNG, dpi=120, bbox_inches='tight')

if __name__ == '__main__': main(sys.argv[1:])
