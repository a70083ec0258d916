"""The home page's figure: where the paper's MLPs stand among the networks with a published CIFAR-10 accuracy, timed on one
machine -- published top-1 against measured images/s at a large batch, fp32, model only -- drawn from the zoo map's stored data
(`mlpscale/resources/zoo_accuracy.csv`, `nbs/results/zoo_map_cpu_speed.csv`) with `mlpscale.zoo.plot_map`.

    python tools/site/home_figure.py        # writes nbs/results/home_zoo_map.png

The zoo map's results page has the four settings, both datasets and every network by number; this is one panel of it, with the
MLPs named.
"""
from pathlib import Path
import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt
from mlpscale import zoo
from mlpscale.core import machine_kind

RES = Path(__file__).resolve().parents[2] / 'nbs' / 'results'
SPEED, PNG = RES / 'zoo_map_cpu_speed.csv', RES / 'home_zoo_map.png'

def main():
    acc, speed = zoo.read_accuracy(), zoo.read_speed(SPEED)
    pts = zoo.zoo_points(acc, speed, 'cifar10', 'cpu', 'model', 'fp32', 'large')
    machine = machine_kind(next(r['machine'] for r in speed if r['device'] == 'cpu'))
    fig, ax = plt.subplots(figsize=(7.6, 4.4), layout='constrained')
    zoo.plot_map(pts, ax, labels=False, legend=False)
    ax.legend(handles=zoo.legend_handles(), fontsize=7.5, loc='lower left', framealpha=0.95)
    mlps = [p for p in pts if p['family'] == 'mlp' and not p['tta']]
    below = {p['model'] for p in mlps if any(q['family'] != 'mlp' and p['img_s'] < q['img_s'] < 2 * p['img_s'] and abs(q['top1'] - p['top1']) < 0.4 for q in pts)}
    for p in mlps:   # the paper's MLPs by name (without test-time augmentation), right of their points (a little lower where a network sits there)
        ax.annotate(f"{p['model']} ({p['top1']:.1f}%)", (p['img_s'], p['top1']), xytext=(6, -8 if p['model'] in below else 0),
                    textcoords='offset points', fontsize=8, ha='left', va='center', color='C3')
    lo, hi = ax.get_xlim(); ax.set_xlim(lo, hi * 6)
    n = len({(p['model'], p['resolution']) for p in pts})
    ax.set_title(f"CIFAR-10: published accuracy against images/s measured on one CPU ({machine})\n"
                 f"large batch, fp32, model only; {n} networks", fontsize=9.5)
    fig.savefig(PNG, dpi=130)
    print(f'wrote {PNG.relative_to(RES.parents[1])}')

if __name__ == '__main__': main()
