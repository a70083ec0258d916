"""Write README.md from nbs/index.ipynb without Quarto: markdown cells as they are, code cells as python blocks
with their text outputs; cells marked `#| hide` are left out. (nbdev-readme does the same through Quarto.)"""
import json, sys
from pathlib import Path

root = Path(__file__).resolve().parents[1]
nb = json.loads((root / 'nbs' / 'index.ipynb').read_text())
out = []
for c in nb['cells']:
    src = ''.join(c['source']).strip('\n')
    if c['cell_type'] == 'markdown': out.append(src)
    elif c['cell_type'] == 'code':
        lines = src.splitlines()
        if any(l.strip() in ('#| hide', '#|hide') for l in lines): continue
        code = '\n'.join(l for l in lines if not l.startswith('#|')).strip('\n')
        if code: out.append(f'```python\n{code}\n```')
        for o in c.get('outputs', []):
            text = ''.join(o.get('text', '') or o.get('data', {}).get('text/plain', ''))
            if text.strip(): out.append(f'```\n{text.rstrip()}\n```')
text = '\n\n'.join(out) + '\n'
target = root / 'README.md'
if not target.exists() or target.read_text() != text: target.write_text(text)
