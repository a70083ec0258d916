"""Write README.md from nbs/index.ipynb without Quarto: markdown cells as they are, code cells as python blocks with their text
outputs; cells marked `#| hide` are left out. A cell marked `#| echo: false` is run (in nbs/, as the docs build runs it) and what
it displays as Markdown goes in as Markdown: the home page's table of results is read from its sources, here as on the site.
Links into the site become links to the files GitHub shows: `results/x.html` -> `nbs/results/x.md` (or .ipynb), `core.html` ->
`nbs/00_core.ipynb`, images under `nbs/`. (nbdev-readme does the same through Quarto.)"""
import json, re, sys
from contextlib import chdir
from pathlib import Path
import IPython.display

root = Path(__file__).resolve().parents[1]
nbs = root / 'nbs'

def run_hidden(code: str) -> list[str]:
    "Run a `#| echo: false` cell's code in nbs/ and return what it displayed as Markdown."
    shown = []
    def display(*objs, **kw):
        shown.extend(o._repr_markdown_() if hasattr(o, '_repr_markdown_') else str(o) for o in objs)
    real, IPython.display.display = IPython.display.display, display
    try:
        with chdir(nbs): exec(compile(code, 'index.ipynb', 'exec'), {'__name__': '__readme__'})
    finally: IPython.display.display = real
    return shown

def github_link(target: str) -> str:
    "A link of the site (relative to nbs/) as the file GitHub shows; other links as they are."
    if re.match(r'^[a-z]+:|^#', target): return target
    p = Path(target.partition('#')[0])   # GitHub's views of notebooks have no anchors of the site's
    if p.suffix == '.html':
        cands = [nbs / p.with_suffix('.md'), nbs / p.with_suffix('.ipynb')] + sorted(nbs.glob(f'[0-9][0-9]_{p.stem}.ipynb'))
        hit = next((c for c in cands if c.exists()), None)
        if hit is None: sys.exit(f'README: the link {target} names no page in nbs/')
        return hit.relative_to(root).as_posix()
    return (nbs / p).relative_to(root).as_posix() if (nbs / p).exists() else target

def md(text: str) -> str: return re.sub(r'\]\(([^)\s]+)\)', lambda m: f'](' + github_link(m.group(1)) + ')', text)

nb = json.loads((nbs / 'index.ipynb').read_text())
out = []
for c in nb['cells']:
    src = ''.join(c['source']).strip('\n')
    if c['cell_type'] == 'markdown': out.append(md(src))
    elif c['cell_type'] == 'code':
        lines = src.splitlines()
        flags = {l.strip().replace(' ', '') for l in lines if l.startswith('#|')}
        if '#|hide' in flags: continue
        if '#|echo:false' in flags: out.extend(md(s) for s in run_hidden(src)); continue
        code = '\n'.join(l for l in lines if not l.startswith('#|')).strip('\n')
        if code: out.append(f'```python\n{code}\n```')
        for o in c.get('outputs', []):
            text = ''.join(o.get('text', '') or o.get('data', {}).get('text/plain', ''))
            if text.strip(): out.append(f'```\n{text.rstrip()}\n```')
text = '\n\n'.join(out) + '\n'
target = root / 'README.md'
if not target.exists() or target.read_text() != text: target.write_text(text)
