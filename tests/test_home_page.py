"""The home page (nbs/index.ipynb) and the README generated from it: short, linking every results page, and every headline
number equal to what its source says. The sources are read here on their own (csv and json, no package code), so that a
number the page computes wrongly, or a source that changed after the README was written, fails."""
import csv, json, re, statistics
from pathlib import Path
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
RES, PUB = ROOT / 'nbs' / 'results', ROOT / 'nbs' / 'published'
README = (ROOT / 'README.md').read_text()
ROWS = {}
for line in README.splitlines():
    cells = [c.strip() for c in line.strip().strip('|').split(' | ')]
    if len(cells) == 5 and cells[0] not in ('task', '---|---|---|---|'): ROWS[cells[0]] = dict(zip(('task', 'command', 'result', 'machine', 'page'), cells))

def csv_of(name): return list(csv.DictReader(open(RES / name, newline='')))
def published(exp): return json.loads((next((PUB / exp).iterdir()) / 'metrics.json').read_text())
def row(prefix): return next(v for k, v in ROWS.items() if k.startswith(prefix))
def pct(v): return f'{100 * v:.1f}%'
def flags(cmd):   # the flags of a command line as a set of 'flag value' strings, without the seed, data root and progress bar
    parts = re.split(r' (?=--)', cmd.split(' ', 2)[2] if cmd.count(' ') > 1 else '')
    return frozenset(p.strip() for p in parts if p and not p.startswith(('--seed', '--data-root', '--no-progress')))

def test_the_readme_is_short_and_links_every_results_page():
    words = len(re.sub(r'```.*?```', ' ', README, flags=re.S).split())
    assert words <= 1600, f'the README has {words} words outside code blocks; the home page should read in a minute'
    quarto = yaml.safe_load((ROOT / 'nbs' / '_quarto.yml').read_text())
    results = next(s for s in quarto['website']['sidebar']['contents'] if isinstance(s, dict) and s.get('section') == 'Results')['contents']
    for page in results:
        if page.endswith('index.md'): continue
        assert f'(nbs/{page})' in README, f'the README does not link the results page {page}'
    assert len(ROWS) >= 8, ROWS.keys()
    for r in ROWS.values(): assert re.fullmatch(r'\[[^\]]+\]\(nbs/results/[\w.]+\)', r['page']), r['page']

def test_no_result_typed_into_the_home_pages_prose():
    nb = json.loads((ROOT / 'nbs' / 'index.ipynb').read_text())
    prose = '\n'.join(''.join(c['source']) for c in nb['cells'] if c['cell_type'] == 'markdown')
    prose = re.sub(r'```.*?```', '', prose, flags=re.S)
    typed = re.findall(r'\d+(?:\.\d+)?\s?%|\d[\d,.]*\s?img/s|\b\d+(?:\.\d+)?x\b', prose)
    assert not typed, f'numbers typed into the home page instead of read from their sources: {typed}'

def test_the_main_job_and_the_ten_minute_command_agree_with_the_csv():
    rows = [r for r in csv_of('bf16_cpu.csv') if r['amp_used'] == 'bf16']
    main = row('The main job')
    runs = [r for r in rows if flags(r['command']) == flags(main['command'].strip('`'))]
    acc = [float(r['test_top1']) for r in runs]
    assert f'**{100 * min(acc):.2f}-{100 * max(acc):.2f}%**' in main['result'] and f'over {len(runs)} seeds' in main['result'], (main, acc)
    ten = row('Ten minutes')
    runs = [r for r in rows if flags(r['command']) == flags(ten['command'].strip('`'))]
    tta, single = [float(r['test_top1_tta']) for r in runs], [float(r['test_top1']) for r in runs]
    assert len(runs) >= 5 and f'over {len(runs)} runs' in ten['result'], (ten, len(runs))
    assert f'{pct(min(tta))}-{pct(max(tta))}'.replace('%-', '-') in ten['result'], (ten['result'], tta)
    assert f'{pct(min(single))}-{pct(max(single))}'.replace('%-', '-') in ten['result'], (ten['result'], single)
    q = {r['amp_used']: r for r in csv_of('bf16_cpu.csv') if r['epochs'] == '12' and r['batch_size'] == '256'}
    assert f"**{float(q['fp32']['train_time_s']) / float(q['bf16']['train_time_s']):.2f}x**" in row('bf16 against fp32')['result']

def test_the_published_runs_numbers_agree_with_their_records():
    see, decide, scal = published('how_mlps_see'), published('mechinterp'), published('scaling')
    assert f"MLP **{see['shape_bias']['MLP']['shape_bias']:.2f}**" in row('How MLPs see')['result']
    assert f"ResNet-18 {see['shape_bias']['CNN']['shape_bias']:.2f}" in row('How MLPs see')['result']
    assert f"**{100 * decide['evidence']['MLP']['concentration']:.0f}%**" in row('How MLPs decide')['result']
    assert f"**{scal['exponent']:.2f}**" in row('A scaling law')['result']
    abl = published('ablations')['rows']
    assert f"**{pct(next(r['test_top1'] for r in abl if r['variant'] == 'baseline'))}**" in row('What makes an MLP')['result']

def test_speed_and_reproduction_agree_with_their_csvs():
    sp = {(r['model'], r['batch_size']): r for r in csv_of('speed_cpu.csv') if r['regime'] == 'model' and r['dtype'] == 'fp32'}
    b6, r18 = sp[('B_6-Wi_512', '1024')], sp[('resnet18_cifar', '1024')]
    res = row('Inference')['result']
    assert f"**{100 * float(b6['gemm_frac']):.0f}%**" in res and f"{float(b6['img_s']) / float(r18['img_s']):.0f}x" in res, res
    b = next(r for r in csv_of('reproduction.csv') if r['table'] == 'scratch' and r['row'] == 'B-MLP')
    res = row("The paper's B-MLP")['result']
    assert f"**{float(b['ours_top1']):.1f}%**" in res and f"the paper: {float(b['paper_top1']):.1f}%" in res, res
    assert row("The paper's B-MLP")['command'].strip('`') == b['command']

@pytest.mark.parametrize('prefix', ['The main job', 'Inference', 'How MLPs decide'])
def test_each_row_names_the_machine_its_source_records(prefix):
    machine = row(prefix)['machine']
    src = {'The main job': lambda: csv_of('bf16_cpu.csv')[0]['machine'], 'Inference': lambda: csv_of('speed_cpu.csv')[0]['cpu'],
           'How MLPs decide': lambda: json.loads((next((PUB / 'mechinterp').iterdir()) / 'run.json').read_text())['machine']}[prefix]()
    vendor = ' '.join(re.sub(r'\((R|TM)\)', '', src).split()[:2])
    assert machine.startswith(vendor), (machine, src)
