"""`tools/build_docs.py` on a tiny project of its own (a copy of the script and pyproject.toml, two or three notebooks):
what nbdev's processors do to a page, and a failing cell failing the build with the notebook and the cell named."""
import json, shutil, subprocess, sys
from pathlib import Path
import pytest
from conftest import ROOT

def _nb(*cells):
    def cell(src):
        if src.startswith('md:'): return {'cell_type': 'markdown', 'metadata': {}, 'source': src[3:]}
        return {'cell_type': 'code', 'metadata': {}, 'source': src, 'outputs': [], 'execution_count': None}
    return {'cells': [cell(c) for c in cells], 'metadata': {'kernelspec': {'name': 'python3', 'display_name': 'Python 3', 'language': 'python'}},
            'nbformat': 4, 'nbformat_minor': 5}

def _project(tmp_path, **nbs):
    (tmp_path / 'tools').mkdir(); (tmp_path / 'nbs').mkdir(); (tmp_path / 'mlpscale').mkdir()
    shutil.copy2(ROOT / 'tools' / 'build_docs.py', tmp_path / 'tools')
    shutil.copy2(ROOT / 'pyproject.toml', tmp_path)
    for name, nb in nbs.items():
        (tmp_path / 'nbs' / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / 'nbs' / name).write_text(json.dumps(nb))
    return subprocess.run([sys.executable, str(tmp_path / 'tools' / 'build_docs.py'), '--n-workers', '1'], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)

INDEX = _nb('md:# tiny\n\n> A *tiny* site.\n\nWelcome.')

def test_pages_show_docs_hide_and_fold(tmp_path):
    chapter = _nb('md:# Adding\n\n> One function.', '#| default_exp adding', '#| hide\nsecret = 42',
                  '#| export\ndef add(a:int, b:int=1) -> int:\n    "Add `a` and `b`."\n    return a + b',
                  'add(2, 3)', 'import matplotlib.pyplot as plt\nplt.plot([1, 2], [2, 1]);')
    r = _project(tmp_path, **{'index.ipynb': INDEX, '01_adding.ipynb': chapter, 'experiments/e.ipynb': _nb('md:# E', 'print("ran")')})
    assert r.returncode == 0, r.stderr[-3000:]
    site = tmp_path / '_docs'
    assert {p.relative_to(site).as_posix() for p in site.rglob('*.html')} == {'index.html', 'adding.html', 'experiments/e.html'}
    page = (site / 'adding.html').read_text()
    assert '<title>Adding – mlpscale</title>' in page and 'One function.' in page
    assert 'secret' not in page and '#|' not in page and 'default_exp' not in page      # hidden cell, directives
    assert '<details class="fold"><summary>Exported source</summary>' in page            # the exported source, folded
    assert '<h3 id="add">add' in page and 'Add <code>a</code> and <code>b</code>' in page   # nbdev's show_doc output
    assert 'show_doc(' not in page and '5' in page and 'data:image/png;base64,' in page
    for href in ('index.html', 'adding.html', 'experiments/e.html'): assert f'href="{href}"' in page   # the nav links every page
    assert 'href="../adding.html"' in (site / 'experiments' / 'e.html').read_text()
    assert 'ran' in (site / 'experiments' / 'e.html').read_text()
    assert '<em>tiny</em>' in (site / 'index.html').read_text()

def test_a_failing_cell_fails_the_build_naming_notebook_and_cell(tmp_path):
    bad = _nb('md:# Bad', 'x = 1', 'raise ValueError("broken on purpose")', 'print("never")')
    r = _project(tmp_path, **{'index.ipynb': INDEX, '02_bad.ipynb': bad})
    assert r.returncode == 1
    assert '02_bad.ipynb: cell #3 failed' in r.stderr and 'ValueError: broken on purpose' in r.stderr
    assert not (tmp_path / '_docs').exists()
