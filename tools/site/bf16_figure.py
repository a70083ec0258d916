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
from pathlib import Path
from matplotlib.figure import Figure

RES = Path(__file__).resolve().parents[2] / 'nbs' / 'results'
CSV, PNG = RES / 'bf16_cpu.csv', RES / 'bf16_cpu.png'
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

def _unseeded(r: dict) -> str:
    "A run's command without its seed and the flags that do not change what it computes, with its dtype: the runs that differ only by seed share it."
    words, out, skip = r['command'].split(), [], False
    for w in words[2:]:
        if skip: skip = False; continue
        if w in ('--seed', '--amp', '--data-root'): skip = True; continue     # the dtype is said by amp_used
        if w in ('--no-progress', '--progress'): continue
        try: w = f"{float(w):g}"                                              # 4e-3 and 0.004 alike
        except ValueError: pass
        out.append(w)
    return f"{r['amp_used']}: " + ' '.join(out)

def main(argv):
    append = argv[:1] == ['--append']; argv = argv[1:] if append else argv
    if argv:
        rows = (list(csv.DictReader(open(CSV))) if append else []) + [row(Path(a)) for a in argv]
        with open(CSV, 'w', newline='') as f:
            w = csv.DictWriter(f, COLS); w.writeheader(); w.writerows(rows)
    rows = list(csv.DictReader(open(CSV)))
    main_rows = [r for r in rows if r['model'] == 'B_4-Wi_256']; other = [r for r in rows if r['model'] != 'B_4-Wi_256']
    fig = Figure(figsize=(14, 4.8) if other else (7.5, 4.0))
    axes = fig.subplots(1, 2 if other else 1, squeeze=False)[0]
    panels = [(axes[0], main_rows, 120, 64, f"B_4-Wi_256 (the main job's model): fp32 against bf16")]
    if other: panels.append((axes[1], other, 600, 67, 'the ten-minute commands (B_6-Wi_512, batch 1024, compiled, unless said)'))
    for ax, rs, tx, ty, title in panels:
        budget = []
        # the main job's runs repeated over seeds: one legend entry per command and dtype (a colour each), not a label per point
        groups = {}
        for r in rs:
            if r['model'] == 'B_4-Wi_256' and '--time-budget' not in r['command']: groups.setdefault(_unseeded(r), []).append(r)
        seeded = {k: v for k, v in groups.items() if len(v) > 1}
        colours = dict(zip(seeded, ('tab:red', 'tab:green', 'tab:purple', 'tab:brown', 'tab:pink', 'tab:olive', 'tab:cyan')))
        for r in rs:
            x, y = float(r['train_time_s']), 100 * float(r['test_top1'])
            key = _unseeded(r) if r['model'] == 'B_4-Wi_256' else None
            if key in colours:
                ax.scatter([x], [y], marker='o' if r['amp_used'] == 'bf16' else 's', s=60, color=colours[key],
                           label=f"{key} ({len(seeded[key])} seeds)")
                continue
            ax.scatter([x], [y], marker='o' if r['amp_used'] == 'bf16' else 's', s=60, color='tab:orange' if r['amp_used'] == 'bf16' else 'tab:blue',
                       label=r['amp_used'])
            if r.get('test_top1_tta'):   # the same run evaluated with flip TTA (--tta 2): hollow, joined to its single-view point
                yt = 100 * float(r['test_top1_tta'])
                ax.plot([x, x], [y, yt], color='tab:orange', lw=0.8)
                ax.scatter([x], [yt], marker='o', s=60, facecolors='none', edgecolors='tab:orange', label='bf16, flip TTA')
            main_model = r['model'] == 'B_4-Wi_256'   # the main job's panel: epochs and batch; the other: what differs between runs
            tag = (f"{r['epochs']} ep, batch {r['batch_size']}" + (', compiled' if '--compile' in r['command'] else '') if main_model
                   else f"{r['epochs']} ep" + ('' if r['batch_size'] == '1024' else f", batch {r['batch_size']}") + ('' if r['model'] == 'B_6-Wi_512' else f", {r['model']}")) \
                  + (f", mixup {r['command'].split('--mixup ')[1].split()[0]}" if '--mixup ' in r['command'] else '') \
                  + (', 600 s budget' if '--time-budget 600' in r['command'] else '')
            tag += ''.join(f", {name} {r['command'].split(flag + ' ')[1].split()[0]}" for flag, name in
                           (('--weight-decay', 'wd'), ('--label-smoothing', 'ls'), ('--seed', 'seed')) if flag + ' ' in r['command'])
            tag += ', features first' if r.get('train_layout') == 'features-first' else ''
            if '--time-budget' in r['command']: budget.append((y, x, tag)); continue
            ax.annotate(tag, (x, y), textcoords='offset points', xytext=(6, 5) if r['amp_used'] == 'fp32' else (6, -10), fontsize=7)
        # the budgeted runs all end at the same time: their labels in a column to the right, in the order of their accuracy
        for k, (y, x, tag) in enumerate(sorted(budget)):
            ax.annotate(tag, (x, y), xycoords='data', textcoords='axes fraction', xytext=(1.02, 0.05 + 0.9 * k / max(1, len(budget) - 1)),
                        fontsize=6.5, va='center', arrowprops=dict(arrowstyle='-', color='0.6', lw=0.5))
        h, l = ax.get_legend_handles_labels(); keep = dict(zip(l, h))
        ax.legend(keep.values(), keep.keys(), fontsize=7, loc='center right' if ax is axes[0] else 'lower right')
        ax.axvline(tx, color='grey', lw=0.8, ls='--'); ax.axhline(ty, color='grey', lw=0.8, ls=':')
        ax.set_xlabel('training time (s)'); ax.set_ylabel('CIFAR-10 test top-1 (%)')
        ax.set_title(title, fontsize=9); ax.margins(x=0.3, y=0.12)
    fig.suptitle(rows[0]['machine'], fontsize=9)
    fig.tight_layout(); fig.savefig(PNG, dpi=120)

if __name__ == '__main__': main(sys.argv[1:])
