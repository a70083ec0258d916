"""The figure of the results page `nbs/results/speed_cpu.ipynb`, drawn from the table beside it (`speed_cpu.csv`, written by
`mlpscale bench infer ... --out speed_cpu`): images per second of each model at each batch size, end to end, with the share
of the same run's fp32 GEMM rate on each bar.

    python tools/site/speed_figure.py   # writes nbs/results/speed_cpu.png
"""
import csv
from pathlib import Path
from matplotlib.figure import Figure

RES = Path(__file__).resolve().parents[2] / 'nbs' / 'results'

def main():
    rows = [r for r in csv.DictReader(open(RES / 'speed_cpu.csv')) if r['regime'] == 'end2end']
    models = list(dict.fromkeys(r['model'] for r in rows))
    batches = sorted({int(r['batch_size']) for r in rows})
    fig = Figure(figsize=(7.5, 3.8))
    ax = fig.add_subplot()
    w = 0.8 / len(models)
    for i, m in enumerate(models):
        rs = {int(r['batch_size']): r for r in rows if r['model'] == m}
        xs = [j + (i - (len(models) - 1) / 2) * w for j in range(len(batches))]
        ys = [float(rs[b]['img_s']) for b in batches]
        bars = ax.bar(xs, ys, w, label=m)
        ax.bar_label(bars, labels=[f"{float(rs[b]['gemm_frac']):.0%}" for b in batches], fontsize=7, padding=1)
    ax.set_yscale('log'); ax.set_ylabel('images / s (end to end, log scale)')
    ax.set_xticks(range(len(batches)), [f'batch {b}' for b in batches])
    ax.set_title(f"Inference on {rows[0]['cpu']} ({rows[0]['threads']} threads), fp32; on the bars: share of the fp32 GEMM rate", fontsize=9)
    ax.legend(fontsize=8, loc='upper left')
    fig.tight_layout()
    fig.savefig(RES / 'speed_cpu.png', dpi=120)

if __name__ == '__main__': main()
