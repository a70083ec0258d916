"""`tools/build_docs.py` on a tiny project of its own (a copy of the script, its front-end files and pyproject.toml, a few
notebooks and a `_quarto.yml`): the pages and their order come from the sidebar, nbdev's processors do what they do to a
page, show_doc gets a parameter table, maths is found, machine paths and empty boxes are cleaned away, a widget becomes a
note, a published run is shown from its stored outputs and never executed, KaTeX and Pagefind are in the site, and a failing
cell fails the build with the notebook and the cell named. The workflow files for the Quarto site are checked here too."""
import json, shutil, subprocess, sys, tempfile
from pathlib import Path
import pytest, yaml
from conftest import ROOT

def _nb(*cells, fm=None):
    def cell(src):
        if isinstance(src, dict): return src
        if src.startswith('md:'): return {'cell_type': 'markdown', 'metadata': {}, 'source': src[3:]}
        return {'cell_type': 'code', 'metadata': {}, 'source': src, 'outputs': [], 'execution_count': None}
    cells = [cell(c) for c in cells]
    if fm: cells.insert(0, {'cell_type': 'raw', 'metadata': {}, 'source': '---\n' + yaml.safe_dump(fm) + '---'})
    return {'cells': cells, 'metadata': {'kernelspec': {'name': 'python3', 'display_name': 'Python 3', 'language': 'python'}},
            'nbformat': 4, 'nbformat_minor': 5}

QUARTO = {'project': {'type': 'website'}, 'website': {'sidebar': {'contents': [
    'index.ipynb', {'section': 'Chapters', 'contents': [{'auto': '[0-9]*.ipynb'}]},
    {'section': 'Experiments', 'contents': [{'auto': 'published/*/*/*.ipynb'}]},
    {'section': 'Results', 'contents': ['results/index.md', 'results/answer.md']}]}}}

def _project(tmp_path, quarto=QUARTO, **files):
    for d in ('tools/site', 'nbs', 'mlpscale'): (tmp_path / d).mkdir(parents=True)
    shutil.copy2(ROOT / 'tools' / 'build_docs.py', tmp_path / 'tools')
    for f in ('site.css', 'site.js', 'package.json', 'package-lock.json'): shutil.copy2(ROOT / 'tools' / 'site' / f, tmp_path / 'tools' / 'site')
    if (ROOT / 'tools' / 'site' / 'node_modules').exists(): (tmp_path / 'tools' / 'site' / 'node_modules').symlink_to(ROOT / 'tools' / 'site' / 'node_modules')
    shutil.copy2(ROOT / 'pyproject.toml', tmp_path)
    (tmp_path / 'mlpscale' / '__init__.py').write_text('')
    (tmp_path / 'mlpscale' / 'adding.py').write_text('def add(a:int, # the first number\n        b:int=1) -> int:\n    "Add `a` and `b`."\n    return a + b\n')
    if quarto: (tmp_path / 'nbs' / '_quarto.yml').write_text(yaml.safe_dump(quarto))
    for name, content in files.items():
        p = tmp_path / 'nbs' / name.replace('__', '/')
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(content if isinstance(content, str) else json.dumps(content))
    return subprocess.run([sys.executable, str(tmp_path / 'tools' / 'build_docs.py'), '--n-workers', '1'], cwd=tmp_path,
                          capture_output=True, text=True, timeout=600)

INDEX = _nb('md:# tiny\n\n> A *tiny* site.\n\nWelcome.')
CHAPTER = _nb('md:# Adding\n\n> One function.', '#| default_exp adding', '#| hide\nsecret = 42',
              '#| export\ndef add(a:int, # the first number\n        b:int=1) -> int:\n    "Add `a` and `b`."\n    return a + b',
              'md:## Fitting $E = a\\,C^{-b} + c$\n\nThe error falls as $C^{-b}$.',
              'add(2, 3)', 'import matplotlib.pyplot as plt\nplt.plot([1, 2], [2, 1]);',
              'import sys, tempfile, pathlib\nprint("data in", pathlib.Path.cwd().resolve())\nprint("scratch", tempfile.mkdtemp())\nsys.stderr.write("")',
              'import ipywidgets as w\nw.VBox([w.IntSlider()])',
              'from IPython.display import HTML\nHTML("<table><tr>" + "".join(f"<td>{\'x\' * 40}</td>" for _ in range(20)) + "</tr></table>")')
# a published run: outputs stored, and executing it would fail (it is never executed by the build or by nbdev-test)
RUN = _nb({'cell_type': 'markdown', 'metadata': {}, 'source': '| | |\n|---|---|\n| run | `r1` |\n| command | `mlpscale run e -p x 1` |'},
          {'cell_type': 'code', 'metadata': {}, 'execution_count': 1, 'source': 'raise RuntimeError("executed")',
           'outputs': [{'output_type': 'stream', 'name': 'stdout', 'text': 'stored output of the run\n'}]},
          fm={'title': 'E: x=1', 'description': 'Run `r1`', 'skip_exec': True})
RESULTS = {'results__index.md': '---\ntitle: Results\n---\n\n<div class="gallery"><a class="card" href="answer.html">answer</a></div>\n',
           'results__answer.md': '# An answer\n\nIt is $x^2$.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n',
           'results__stub.md': '## stub\n\n| id | x |\n|---|---|\n| r1 | 1 |\n'}

def test_pages_from_the_sidebar_processed_and_clean(tmp_path):
    r = _project(tmp_path, **{'index.ipynb': INDEX, '01_adding.ipynb': CHAPTER, 'experiments__e.ipynb': _nb('md:# E', 'print("ran")'),
                              'published__e__r1__e.ipynb': RUN, **RESULTS})
    assert r.returncode == 0, r.stderr[-3000:]
    site = tmp_path / '_docs'
    pages = {p.relative_to(site).as_posix() for p in site.rglob('*.html') if not {'pagefind', 'katex'} & set(p.relative_to(site).parts)}
    assert pages == {'index.html', 'adding.html', 'published/e/r1/e.html', 'results/index.html', 'results/answer.html'}   # no template, no stub
    manifest = json.loads((site / 'site.json').read_text())
    assert [(p['out'], p['section']) for p in manifest] == [('index.html', 'Home'), ('adding.html', 'Chapters'), ('published/e/r1/e.html', 'Experiments'),
                                                            ('results/index.html', 'Results'), ('results/answer.html', 'Results')]
    assert [p['has_math'] for p in manifest] == [False, True, False, False, True]
    page = (site / 'adding.html').read_text()
    assert '<title>Adding – mlpscale</title>' in page and 'One function.' in page
    assert 'secret' not in page and '#|' not in page and 'default_exp' not in page      # hidden cell, directives
    assert '<details class="fold"><summary>Exported source</summary>' in page            # the exported source, folded
    assert '<h3 id="add">add' in page and 'Add <code>a</code> and <code>b</code>' in page   # nbdev's show_doc output
    assert '<table class="params">' in page and '<td>the first number</td>' in page        # ... with its parameter table
    assert '<tr><td><code>b</code></td><td><code>int</code></td><td><code>1</code></td><td></td></tr>' in page
    assert 'show_doc(' not in page and 'data:image/png;base64,' not in page               # figures are files beside the page
    assert (site / 'adding_files').is_dir() and any((site / 'adding_files').glob('fig-*.png'))
    assert str(tmp_path) not in page and tempfile.gettempdir() + '/' not in page and 'scratch &lt;tmp&gt;' in page   # machine paths
    assert 'output_stderr' not in page                                                    # an empty stderr box is dropped
    assert 'VBox(' not in page and 'open it in JupyterLab' in page                       # a widget: a note
    assert '<div class="table-wrap"><table>' in page                                      # wide tables scroll in their box
    assert 'Fitting $E = a\\,C^{-b} + c$' in page and 'katex/katex.min.js' in page        # maths, for KaTeX
    assert 'class="toc"' in page and 'rel="prev"' in page and 'rel="next"' in page and 'data-pagefind-body' in page
    for href in ('index.html', 'adding.html', 'published/e/r1/e.html', 'results/answer.html'): assert f'href="{href}"' in page   # the nav
    run = (site / 'published' / 'e' / 'r1' / 'e.html').read_text()
    assert 'stored output of the run' in run and 'RuntimeError: executed' not in run   # executing it would have failed the build
    assert '<h1 class="title">E: x=1</h1>' in run and 'href="../../../adding.html"' in run
    assert (site / 'katex' / 'katex.min.js').exists() and (site / 'katex' / 'contrib' / 'auto-render.min.js').exists() and any((site / 'katex' / 'fonts').iterdir())
    assert (site / 'pagefind' / 'pagefind-ui.js').exists() and any((site / 'pagefind').glob('pagefind-entry.json'))
    assert 'results/stub.md' in r.stdout   # reported as a file that is not a page

def test_without_a_sidebar_every_notebook_is_a_chapter(tmp_path):
    r = _project(tmp_path, quarto=None, **{'index.ipynb': INDEX, '02_b.ipynb': _nb('md:# B', 'print(2)'), '01_a.ipynb': _nb('md:# A', 'print(1)')})
    assert r.returncode == 0, r.stderr[-3000:]
    assert [p['out'] for p in json.loads((tmp_path / '_docs' / 'site.json').read_text())] == ['index.html', 'a.html', 'b.html']

def test_a_page_the_sidebar_lists_must_exist(tmp_path):
    r = _project(tmp_path, **{'index.ipynb': INDEX})
    assert r.returncode == 1 and 'nbs/_quarto.yml lists results/index.md, which does not exist' in r.stderr

def test_a_failing_cell_fails_the_build_naming_notebook_and_cell(tmp_path):
    bad = _nb('md:# Bad', 'x = 1', 'raise ValueError("broken on purpose")', 'print("never")')
    r = _project(tmp_path, **{'index.ipynb': INDEX, '02_bad.ipynb': bad, **RESULTS})
    assert r.returncode == 1
    assert '02_bad.ipynb: cell #3 failed' in r.stderr and 'ValueError: broken on purpose' in r.stderr
    assert not (tmp_path / '_docs').exists() and not (tmp_path / '_docs.tmp').exists()   # nothing half-built left behind

YAMLLINT = '{extends: default, rules: {line-length: {max: 160}, truthy: {check-keys: false}, document-start: disable}}'

def test_the_quarto_site_and_its_workflows():
    "nbs/_quarto.yml lists every results page that exists and the sections in reading order; the workflows are nbdev's"
    q = yaml.safe_load((ROOT / 'nbs' / '_quarto.yml').read_text())
    side = q['website']['sidebar']['contents']
    assert side[0] == 'index.ipynb' and [s['section'] for s in side[1:]] == ['Chapters', 'Experiments', 'Results']
    results = side[3]['contents']
    assert all((ROOT / 'nbs' / p).exists() for p in results) and results[0] == 'results/index.md'
    assert set(results) <= set(q['project']['render']) and q['format']['html']['html-math-method'] == 'katex'
    assert q['website']['search'] and q['format']['html']['toc'] and q['format']['html']['code-tools']
    wf = ROOT / '.github' / 'workflows'
    test, deploy = yaml.safe_load((wf / 'test.yaml').read_text()), yaml.safe_load((wf / 'deploy.yaml').read_text())
    uses = lambda w: [s.get('uses') for j in w['jobs'].values() for s in j['steps']]
    assert 'fastai/workflows/nbdev-ci@master' in uses(test) and 'fastai/workflows/quarto-ghp@master' in uses(deploy)
    on = lambda w: w.get('on', w.get(True))   # YAML 1.1 reads a bare `on:` key as True
    lint = subprocess.run([sys.executable, '-m', 'yamllint', '-f', 'parsable', '-d', YAMLLINT, str(wf), str(ROOT / 'nbs' / '_quarto.yml')],
                          capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert 'push' in on(test) and 'push' in on(deploy) and deploy['permissions']['pages'] == 'write'
    release = yaml.safe_load((wf / 'release.yaml').read_text())   # a version tag builds, checks and publishes the sdist and the wheel
    steps = [s.get('run', '') + s.get('uses', '') for j in release['jobs'].values() for s in j['steps']]
    assert on(release)['push']['tags'] == ['v*'] and any('python -m build' in s for s in steps) and any('twine check' in s for s in steps)
    assert any('pypa/gh-action-pypi-publish' in s for s in steps) and release['jobs']['publish']['permissions']['id-token'] == 'write'

def _build_docs_module():
    import importlib.util
    spec = importlib.util.spec_from_file_location('build_docs_under_test', ROOT / 'tools' / 'build_docs.py')
    mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod); return mod

def test_links_to_undocumented_names_reach_their_code_or_their_page():
    "nbdev links `_helper` and `C.method` as page#name; where the page documents no such name the link is mended, never left broken"
    bd = _build_docs_module()
    code = lambda kw, cls, name: f'<span class="k">{kw}</span><span class="w"> </span><span class="{cls}">{name}</span>'
    bodies = {'a.html': '<h3 id="add">add</h3><pre>' + code('def', 'nf', '_helper') + code('class', 'nc', 'Box') + code('def', 'nf', 'size') + '</pre>'
                        '<a href="#add"><code>add</code></a> <a href="#_gone"><code>_gone</code></a>',
              'sub/b.html': '<a href="../a.html#_helper"><code>_helper</code></a> <a href="../a.html#box.size"><code>Box.size</code></a> '
                            '<a href="../a.html#_gone"><code>_gone</code></a> <a href="../a.html#add.call"><code>add.call</code></a>'}
    assert bd.slug('getting-%5B0,-1%5D-batches') == 'getting-0-1-batches' and bd.slug('TrainConfig.validate') == 'trainconfig.validate'
    counts = bd.fix_anchors(bodies)
    assert counts == {'anchored': 2, 'to_class': 1, 'to_page': 1}, counts
    a, b = bodies['a.html'], bodies['sub/b.html']
    assert '<span id="_helper"></span>' + code('def', 'nf', '_helper') in a                  # an anchor at the definition
    assert a.index('<span id="box.size">') > a.index(code('class', 'nc', 'Box'))            # the method of that class
    assert '<a href="#add"><code>add</code></a> <code>_gone</code>' in a                      # on its own page: plain code
    assert 'href="../a.html#_helper"' in b and 'href="../a.html#box.size"' in b               # kept: the anchors exist now
    assert '<a href="../a.html"><code>_gone</code></a>' in b and 'href="../a.html#add"><code>add.call' in b   # the page; the class's documentation

def test_a_parameter_column_with_nothing_in_it_is_left_out():
    bd = _build_docs_module()
    def plain(a: int, b: str = 'x') -> int: return a
    def commented(a: int,   # the first
                  b: int = 1): return a
    t = bd._param_table(plain)
    assert '<th>Details</th>' not in t and '<th>Default</th>' in t and '<td><code>&#x27;x&#x27;</code></td>' in t
    assert '<th>Details</th>' in bd._param_table(commented) and '<td>the first</td>' in bd._param_table(commented)
