"""The table and figure of the results page `nbs/results/bf16_cpu.ipynb`, from the training runs it names: test top-1 against
training time of the main job in fp32 (`--amp off`) and in bf16 (`--amp auto` on a CPU with AMX-BF16), and of the longer
commands, each point a run folder's `config.json` + `metrics.json`.

    python tools/site/bf16_figure.py RUN_DIR [RUN_DIR ...]            # writes nbs/results/bf16_cpu.csv and bf16_cpu.png
    python tools/site/bf16_figure.py --append RUN_DIR [RUN_DIR ...]   # adds the runs to the CSV's rows, redraws
    python tools/site/bf16_figure.py                                  # redraws the figures from the CSV

Two figures, each drawn for the site's column (7.6 inches wide, 9-point text; saved at 130 dpi): `bf16_cpu.png`, the main job's
model (B_4-Wi_256), test top-1 against training time, fp32 and bf16, an arrow from each command's fp32 run to its bf16 run, the
two-minute line; and `bf16_cpu_ten_minutes.png` (when the CSV has them), the runs of the ten-minute command and its variants
(`--time-budget 600`), single-view and flip-TTA accuracy per run, one row per variant.
"""
import csv, json, sys
from pathlib import Path
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from mlpscale.core import machine_kind

RES = Path(__file__).resolve().parents[2] / 'nbs' / 'results'
CSV, PNG = RES / 'bf16_cpu.csv', RES / 'bf16_cpu.png'
MAIN_MODEL = 'B_4-Wi_256'                                    # the main job's model: the first figure
TEN_MINUTE = {'model': 'B_6-Wi_512', 'batch_size': 1024, 'lr': 3e-3}   # the ten-minute command: what its variants are told against
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
    main_rows = [r for r in rows if r['model'] == MAIN_MODEL]
    ten = [r for r in rows if r['model'] != MAIN_MODEL and _flag(r, '--time-budget')]
    draw_main(main_rows, machine_kind(rows[0]["machine"])).savefig(PNG, dpi=DPI)
    if ten: draw_ten_minutes(ten, machine_kind(rows[0]["machine"])).savefig(PNG.with_name(PNG.stem + '_ten_minutes.png'), dpi=DPI)

DPI = 130                                    # 7.6 inches: 988 px, shown in the site's ~760 px column
DTYPE = {'fp32': ('s', 'tab:blue', 'fp32 (--amp off)'), 'bf16': ('o', 'tab:orange', 'bf16 (--amp auto: the AMX-BF16 engine)')}

def _style(r: dict): return DTYPE['bf16' if r['amp_used'] == 'bf16' else 'fp32']

def _same_command(r: dict) -> tuple:
    "The run's command without its dtype (`--amp off`) and progress flags: an fp32 run and a bf16 run of one command share it."
    w = [x for x in r['command'].split() if x != '--no-progress']
    if '--amp' in w[:-1]: i = w.index('--amp'); del w[i:i + 2]
    return tuple(sorted(zip(w[::2], w[1::2])))

def draw_main(rows: list, machine: str) -> Figure:
    """The main job's model: test top-1 against training time, each run a point (fp32 squares, bf16 circles), an arrow from each
    command's fp32 run to its bf16 run, the two-minute line; text only for the 12-epoch pair, the 36-epoch batch-1024 runs and
    the two-minute budget pair."""
    fig = Figure(figsize=(7.6, 4.9), layout='constrained'); ax = fig.subplots()
    for r in rows:
        mk, c, _ = _style(r)
        ax.scatter([float(r['train_time_s'])], [100 * float(r['test_top1'])], marker=mk, s=42, color=c, zorder=3, lw=0)
    by_cmd = {}
    for r in rows: by_cmd.setdefault(_same_command(r), {})[r['amp_used']] = r
    pairs = [(d['fp32'], d['bf16']) for d in by_cmd.values() if 'fp32' in d and 'bf16' in d]
    xy = lambda r: (float(r['train_time_s']), 100 * float(r['test_top1']))
    for f, b in pairs:
        ax.annotate('', xy(b), xytext=xy(f), arrowprops=dict(arrowstyle='-|>', color='0.4', lw=0.9, shrinkA=5, shrinkB=5,
                                                              mutation_scale=9), zorder=2)
    # a few words where they help: the first pair (12 epochs), the group of 36-epoch batch-1024 pairs, the two-minute budget
    for f, b in pairs:
        (xf, yf), (xb, yb) = xy(f), xy(b)
        if int(f['epochs']) == 12:
            ax.annotate(f"12 epochs, batch {f['batch_size']}: {xf:.0f} s \u2192 {xb:.0f} s", ((xf + xb) / 2, yf), xytext=(0, 7),
                        textcoords='offset points', ha='center', va='bottom', fontsize=9)
        elif _flag(f, '--time-budget'):
            ax.annotate(f"{float(_flag(f, '--time-budget')):.0f} s budget: {f['epochs']} epochs in fp32, {b['epochs']} in bf16", (xf, yf),
                        xytext=(8, 0), textcoords='offset points', ha='left', va='center', fontsize=9)
    group = [f for f, b in pairs if int(f['epochs']) == 36 and int(f['batch_size']) == 1024 and not _flag(f, '--time-budget')]
    if group:
        x0, y0 = max(xy(f)[0] for f in group), max(xy(f)[1] for f in group)
        ax.annotate(f"36 epochs, batch 1024\n({len(group)} commands, fp32 \u2192 bf16)", (x0, y0), xytext=(0, 10),
                    textcoords='offset points', ha='right', va='bottom', fontsize=9)
    ax.axvline(120, color='grey', lw=0.8, ls='--', zorder=1)
    ax.text(122, 0.02, '2 minutes', transform=ax.get_xaxis_transform(), ha='left', va='bottom', fontsize=9, color='0.3')
    ax.axhline(64, color='grey', lw=0.8, ls=':', zorder=1)
    ax.set_xlim(0, 1.12 * max(xy(r)[0] for r in rows)); ax.margins(y=0.1)
    ax.set_xlabel('training time (s)', fontsize=10); ax.set_ylabel('CIFAR-10 test top-1 (%)', fontsize=10)
    ax.tick_params(labelsize=9); ax.grid(alpha=0.25)
    ax.set_title(f"{MAIN_MODEL} (the main job's model), fp32 against bf16\n{machine}", fontsize=10)
    handles = [Line2D([], [], ls='none', marker=mk, color=c, ms=7, label=lab) for mk, c, lab in DTYPE.values()]
    handles.append(Line2D([], [], color='0.4', lw=0.9, marker='>', markevery=[1], ms=5, label='same command, fp32 \u2192 bf16'))
    fig.legend(handles=handles, loc='outside lower center', ncol=3, fontsize=9, frameon=False)
    return fig

COMMAND_PARTS = ('mixup 0.4', '600 s budget', 'wd 0.2', 'features first')    # what every run of the ten-minute command has

def _variant(r: dict) -> str:
    "How a ten-minute run differs from the command (its tag without the epochs it fitted, the seed and the command's own parts)."
    parts = [p for p in _tag(r, seed=False).split(', ')[1:] if p not in COMMAND_PARTS]
    return (', '.join(parts) or 'the command') + (f", {r['amp_used']}" if r['amp_used'] != 'bf16' else '')

def draw_ten_minutes(rows: list, machine: str) -> Figure:
    """The ten-minute runs, one band per variant of the command (the command itself on top, then by mean single-view accuracy),
    one line per run in it: a filled marker (single view) joined to a hollow one (flip TTA)."""
    groups = {}
    for r in rows: groups.setdefault(_variant(r), []).append(r)
    mean = lambda rs: sum(float(r['test_top1']) for r in rs) / len(rs)
    order = sorted(groups, key=lambda v: (v != 'the command', -mean(groups[v])))
    GAP = 0.9                                                  # between two variants' bands, in run lines
    fig = Figure(figsize=(7.6, 1.7 + 0.11 * (len(rows) + GAP * len(order))), layout='constrained'); ax = fig.subplots()
    y, ticks = 0.0, []
    for k, v in enumerate(order):
        rs = sorted(groups[v], key=lambda r: -float(r['test_top1']))
        if k % 2 == 0: ax.axhspan(y - 0.5 - GAP / 2, y + len(rs) - 0.5 + GAP / 2, color='0.94', lw=0, zorder=0)
        ticks.append(y + (len(rs) - 1) / 2)
        for r in rs:
            mk, c, _ = _style(r); x = 100 * float(r['test_top1'])
            if r.get('test_top1_tta'):
                xt = 100 * float(r['test_top1_tta'])
                ax.plot([x, xt], [y, y], color=c, lw=0.8, alpha=0.6, zorder=2)
                ax.scatter([xt], [y], marker=mk, s=22, facecolors='white', edgecolors=c, lw=1, zorder=3)
            ax.scatter([x], [y], marker=mk, s=22, color=c, lw=0, zorder=3)
            y += 1
        y += GAP
    ax.set_yticks(ticks, [f"{v} ({len(groups[v])} runs)" if len(groups[v]) > 1 else v for v in order], fontsize=9)
    ax.tick_params(axis='y', length=0); ax.set_ylim(y - GAP - 0.5 + GAP / 2, -0.5 - GAP / 2)   # the last run's line is at y - GAP - 1
    ax.tick_params(axis='x', labelsize=9)
    ax.axvline(67, color='grey', lw=0.8, ls=':', zorder=1)
    ax.text(67.05, 0.01, '67%', transform=ax.get_xaxis_transform(), ha='left', va='bottom', fontsize=9, color='0.3')
    ax.grid(axis='x', alpha=0.3); ax.set_xlabel('CIFAR-10 test top-1 (%)', fontsize=10)
    c = TEN_MINUTE
    fig.suptitle(f"The ten-minute command ({c['model']}, 600 s budget, batch {c['batch_size']}, lr {c['lr']:g}, mixup 0.4, wd 0.2)\n"
                 f"and its variants, each run a line; {machine}", fontsize=9.5)
    handles = []
    for dt in ('bf16', 'fp32'):
        mk, col, _ = DTYPE[dt]
        handles += [Line2D([], [], ls='none', marker=mk, color=col, ms=6, label=f'{dt}, single view'),
                    Line2D([], [], ls='none', marker=mk, mfc='white', mec=col, ms=6, label=f'{dt}, flip TTA')]
    fig.legend(handles=handles, loc='outside lower center', ncol=4, fontsize=9, frameon=False)
    return fig

if __name__ == '__main__': main(sys.argv[1:])
