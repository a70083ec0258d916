"""Build the documentation site into `_docs/` without Quarto: the pages `nbs/_quarto.yml`'s sidebar lists, in its order
(the same file the published Quarto site is built from), executed where they are chapters, processed by nbdev's own doc
processors, rendered to HTML by nbconvert, with maths (KaTeX), full-text search (Pagefind), the page's contents,
previous/next links and a layout that works from a phone to a wide screen.

    python tools/build_docs.py [--n-workers N] [--force] [--out DIR]

Pages: `index.html` from `nbs/index.ipynb`; the numbered notebooks as chapters (`NN_name.ipynb` -> `name.html`, the names
Quarto gives them) and a page of the registered models generated from the registry; under "Experiments" the executed notebooks of recorded
runs that `mlpscale publish` copied into `nbs/published/<experiment>/<run-id>/` (rendered from their stored outputs, never
executed here: the CI-sized executions of `nbs/experiments/*.ipynb` are tests, not pages); under "Results" the written results
pages listed in `_quarto.yml` (`results/index.md` is their gallery). nbdev's processors do what they do for the Quarto
site: `show_doc` cells are added after exported definitions that lack one and only their output is shown, with a table of the
parameters (fastcore's docments: type, default, the comment beside the parameter); `#| hide` cells are left out, `#| export`
sources are shown folded, directives are removed, backticked names link to their API reference.

Clean pages: absolute paths of this machine (the repository, the data root, temporary folders, home) are written as
relative paths or placeholders, empty output boxes are dropped, a widget's text stand-in becomes a note to run the notebook in
JupyterLab; the build fails, naming the notebook and the cell, if any executed cell raises or prints a traceback. Figures are
written as image files next to the page. The build prints what it had to clean, so the notebooks can be fixed at the source.

Executed notebooks are cached in `_proc/docs/` under a hash of the notebook, the library (`mlpscale/*.py`) and
the dependencies and nbdev settings in `pyproject.toml`, so a second build (the browser test's) only re-renders; `--force` executes everything again. A notebook whose
nbdev frontmatter says `skip_exec: true`, or a results notebook that already holds outputs, is rendered from its stored
outputs.

Front-end libraries, copied into the site (no CDN: the site works offline): KaTeX from the npm registry, pinned in
`tools/site/package-lock.json` (`npm ci --prefix tools/site`; the build runs it when `tools/site/node_modules` lacks it);
Pagefind from PyPI (`pagefind[bin]`, the dev extra), which indexes the built pages and writes `_docs/pagefind/`. Search needs
the site served over HTTP (`python -m http.server -d _docs`), as Pagefind fetches its index.
"""
import argparse, base64, hashlib, html, json, os, posixpath, re, shutil, subprocess, sys, time, traceback, urllib.parse
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from multiprocessing import get_context
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NBS = ROOT / 'nbs'
CACHE = ROOT / '_proc' / 'docs'
SITE_SRC = ROOT / 'tools' / 'site'
ASSETS = {'.png', '.jpg', '.jpeg', '.gif', '.svg', '.webp', '.csv', '.json', '.pdf'}
TB = 'Traceback (most recent call last)'
SITE = 'mlpscale'

# --------------------------------------------------------------------------------------------------------------- pages
@dataclass
class Page:
    src: Path | None     # source file under nbs/ (None: a page the build generates)
    section: str         # '' (home), 'Chapters', 'Experiments', 'Results'
    out: str             # path of the html page relative to the site root
    title: str = ''
    description: str = ''
    has_math: bool = False
    toc: list = field(default_factory=list)
    images: list = field(default_factory=list)

    @property
    def label(self) -> str: return str(self.src.relative_to(NBS)) if self.src else self.out

def _out_name(rel: Path) -> str:
    "`02_data.ipynb` -> `data.html` (Quarto's name for it); other files keep their stem"
    stem = re.sub(r'^\d+[a-z]?_', '', rel.stem) or rel.stem
    return (rel.parent / f'{stem}.html').as_posix()

def _hidden(rel: Path) -> bool: return any(p.startswith(('_', '.')) or p == 'runs' for p in rel.parts)

def quarto_config(nbs: Path = NBS) -> dict:
    import yaml
    p = nbs / '_quarto.yml'
    return (yaml.safe_load(p.read_text()) or {}) if p.exists() else {}

def _sidebar_items(contents, section, nbs):
    "(section, file) pairs from a Quarto sidebar `contents` list: files, `auto` globs, nested `section`s"
    for it in contents or []:
        if isinstance(it, str): yield section, nbs / it
        elif isinstance(it, dict) and 'section' in it: yield from _sidebar_items(it.get('contents'), str(it['section']), nbs)
        elif isinstance(it, dict) and 'auto' in it:
            for g in ([it['auto']] if isinstance(it['auto'], str) else it['auto']):
                yield from ((section, p) for p in sorted(nbs.glob(g)) if p.is_file() and not _hidden(p.relative_to(nbs)))
        elif isinstance(it, dict) and isinstance(it.get('href'), str) and not it['href'].startswith(('http:', 'https:')):
            yield section, nbs / it['href']

def discover(nbs: Path = NBS) -> list[Page]:
    "The site's pages in navigation order: `_quarto.yml`'s sidebar (home, chapters, experiments, results), the registered models after the chapters"
    sidebar = ((quarto_config(nbs).get('website') or {}).get('sidebar') or {})
    if isinstance(sidebar, list): sidebar = sidebar[0] if sidebar else {}
    pages, seen = [], set()
    for section, src in _sidebar_items(sidebar.get('contents'), '', nbs):
        if src in seen or src.suffix not in ('.ipynb', '.md'): continue
        if not src.exists(): raise SystemExit(f'build_docs: nbs/_quarto.yml lists {src.relative_to(nbs)}, which does not exist')
        seen.add(src)
        rel = src.relative_to(nbs)
        pages.append(Page(src, section, 'index.html' if rel.as_posix() == 'index.ipynb' else _out_name(rel)))
    if not pages:   # no sidebar: every notebook, in file order
        pages = [Page(p, '' if p.name == 'index.ipynb' else 'Chapters', _out_name(p.relative_to(nbs)))
                 for p in sorted(nbs.glob('*.ipynb')) if not _hidden(p.relative_to(nbs))]
        pages.sort(key=lambda p: p.out != 'index.html')
    chapters = [i for i, p in enumerate(pages) if p.section == 'Chapters']
    if chapters and (ROOT / 'mlpscale' / 'models.py').exists():
        pages.insert(chapters[-1] + 1, Page(None, 'Chapters', 'registered_models.html', 'Registered models'))
    outs = {}
    for p in pages:   # two sources with one page name (`01_x.ipynb`, `x.ipynb`): keep the numbered file's full name
        if p.out in outs and p.src: p.out = (p.src.relative_to(nbs).parent / f'{p.src.stem}.html').as_posix()
        outs[p.out] = p
    return pages

# ----------------------------------------------------------------------------------------------------------- executing
EXEC_VERSION = 1   # bump when `execute` changes what an executed notebook holds

def _settings() -> bytes:
    "What of pyproject.toml an execution depends on: the dependencies and nbdev's settings (not, say, a dev tool's version)"
    import tomllib
    p = tomllib.loads((ROOT / 'pyproject.toml').read_text())
    return json.dumps([p.get('project', {}).get('dependencies'), p.get('tool', {}).get('nbdev')], sort_keys=True).encode()

def _cache_key(src: Path) -> str:
    "Executed notebooks are current while the notebook, the library and the project's settings are unchanged"
    h = hashlib.sha256(f'{EXEC_VERSION}'.encode() + src.read_bytes())
    for f in sorted((ROOT / 'mlpscale').glob('*.py')):
        h.update(f.name.encode()); h.update(f.read_bytes())
    h.update(_settings())
    return h.hexdigest()

def _cache_path(src: Path) -> Path: return CACHE / src.relative_to(NBS).with_suffix('.ipynb')

def _has_outputs(nb) -> bool: return any(c.get('outputs') for c in nb['cells'] if c['cell_type'] == 'code')

def _error_in(cell):
    "The error a code cell's outputs show (an error output or a traceback printed to a stream), or None"
    for o in cell.get('outputs', []):
        if o.get('output_type') == 'error': return f"{o.get('ename')}: {o.get('evalue')}\n" + '\n'.join(o.get('traceback', []))
        if o.get('output_type') == 'stream' and TB in ''.join(o.get('text', '')): return ''.join(o['text'])
        for k, v in (o.get('data') or {}).items():
            if k.startswith('text/') and TB in ''.join(v): return ''.join(v)
    return None

def execute(src: str, cell_timeout: int | None = None) -> dict:
    "Execute notebook `src` in this process the way `nbdev-test` does (cwd = its folder); add nbdev's `show_doc` cells first"
    from fastcore.nbio import read_nb
    from execnb.shell import CaptureShell
    from nbdev.config import get_config
    from nbdev.process import NBProcessor
    from nbdev.processors import populate_language, add_show_docs
    from nbdev.test import _skip_cell
    from fastcore.xtras import working_directory
    src = Path(src)
    os.environ['IN_TEST'] = '1'
    if str(ROOT) not in sys.path: sys.path.insert(0, str(ROOT))   # as nbdev-test's basepath
    nb = read_nb(src)
    for i, c in enumerate(nb.cells): c.metadata['docs_idx'] = i   # the cell's number in the source notebook
    nb.path_ = str(src)
    NBProcessor(nb=nb, procs=[populate_language, add_show_docs], rm_directives=False, process=True)
    cfg = get_config(src.parent)
    flags = cfg.tst_flags.split() if isinstance(cfg.tst_flags, str) else list(cfg.tst_flags or [])
    skip = _skip_cell(nb, flags)
    t0 = time.time()
    k = CaptureShell(src)
    k.run_cell('from nbdev.showdoc import show_doc')
    failed = None
    with working_directory(src.parent):
        for cell in nb.cells:
            if skip(cell): continue
            k.cell(cell, timeout=cell_timeout)
            err = _error_in(cell)
            if k.exc is not None or err:
                idx = cell.metadata.get('docs_idx')
                where = f'cell #{idx + 1}' if idx is not None else 'an added show_doc cell'   # counted from 1, all cells
                failed = (f"{src.relative_to(NBS)}: {where} failed\n--- cell source ---\n{cell.source}\n--- error ---\n"
                          f"{err or ''.join(traceback.format_exception(k.exc))}")
                break
    k.close()
    return dict(nb=json.loads(json.dumps(nb, default=str)), seconds=time.time() - t0, error=failed)

def execute_and_render(src: str, cell_timeout: int | None, page: dict, out: Path) -> dict:
    "`execute` the notebook, then render its page in the same worker (`render_page`): the result of `execute` with `page`, `body`, `hits`"
    r = execute(src, cell_timeout)
    if not r['error']: r['page'], r['body'], r['hits'] = render_page(page, r['nb'], out)
    return r

def _plan(pages, force):
    "Which pages to execute ((page, cache key) pairs, longest first) and the executed or stored notebooks of the others"
    todo, ready = [], {}
    old_times = json.loads((CACHE / 'timings.json').read_text()) if (CACHE / 'timings.json').exists() else {}
    for p in pages:
        if p.src is None or p.src.suffix != '.ipynb': continue
        raw = json.loads(p.src.read_text())
        fm = _frontmatter(raw)
        if (str(fm.get('skip_exec', '')).lower() == 'true' or p.src.is_relative_to(NBS / 'published')
                or (p.section == 'Results' and _has_outputs(raw))):
            ready[p.src] = raw; continue
        cp, key = _cache_path(p.src), _cache_key(p.src)
        if not force and cp.exists():
            cached = json.loads(cp.read_text())
            if cached['metadata'].get('docs_key') == key: ready[p.src] = cached; continue
        todo.append((p, key))
    todo.sort(key=lambda t: -old_times.get(str(t[0].src.relative_to(NBS)), t[0].src.stat().st_size / 1e4))
    return todo, ready, old_times

def _execute_and_render_all(pages, out, n_workers, force, cell_timeout):
    """Every page's body, rendered into `out` by `n_workers` processes: a notebook to execute is rendered by the worker that executed it,
    the others (cached, stored, Markdown, the models page) by whichever worker is free, so rendering fills the time the last notebooks
    take; raise SystemExit, after all have ended, if any page failed. Returns the bodies (by output path) and the execution times."""
    todo, ready, old_times = _plan(pages, force)
    if todo: print(f'executing {len(todo)} notebook(s) with {n_workers} worker(s): ' + ', '.join(p.label for p, _ in todo), flush=True)
    keys = {p.src: key for p, key in todo}
    errors, bodies, times = [], {}, {}
    # workers find the functions as `build_docs.<name>`: IPython replaces `__main__` in a worker once a notebook has run there
    if str(Path(__file__).parent) not in sys.path: sys.path.insert(0, str(Path(__file__).parent))
    import build_docs
    index = {p.out: i for i, p in enumerate(pages)}
    with ProcessPoolExecutor(max(1, n_workers), mp_context=get_context('spawn')) as ex:
        futs = {ex.submit(build_docs.execute_and_render, str(p.src), cell_timeout, asdict(p), out): p for p, _ in todo}
        futs |= {ex.submit(build_docs.render_page, asdict(p), ready.get(p.src), out): p for p in pages if p.src not in keys}
        for f in as_completed(futs):
            p = futs[f]
            try: r = f.result()
            except Exception as e:
                errors.append(f'{p.label}: {"executing" if p.src in keys else "rendering"} it failed: {type(e).__name__}: {e}\n'
                              + ''.join(traceback.format_exception(e))); continue
            if p.src in keys:
                times[p.label] = r['seconds']
                print(f'  {p.label}: {r["seconds"]:.1f} s' + (' FAILED' if r['error'] else ''), flush=True)
                if r['error']: errors.append(r['error']); continue
                nb = r['nb']; nb['metadata']['docs_key'] = keys[p.src]
                cp = _cache_path(p.src); cp.parent.mkdir(parents=True, exist_ok=True)
                tmp = cp.with_suffix('.tmp'); tmp.write_text(json.dumps(nb)); tmp.replace(cp)
                page, body, hits = r['page'], r['body'], r['hits']
            else: page, body, hits = r
            pages[index[page['out']]] = Page(**page)
            bodies[page['out']] = body
            for where, what in hits.items(): SCRUB.hits.setdefault(where, set()).update(what)
    if times:
        CACHE.mkdir(parents=True, exist_ok=True)
        (CACHE / 'timings.json').write_text(json.dumps({**old_times, **times}, indent=1))
    if errors:
        sys.stderr.write('\nbuild_docs: executing or rendering the pages failed, so no site was written:\n\n' + '\n\n'.join(errors) + '\n')
        raise SystemExit(1)
    return bodies, times


# ---------------------------------------------------------------------------------------------------------- processing
def _frontmatter(nb) -> dict:
    "nbdev frontmatter: a raw `---` cell, else the first markdown cell's `# title` and `> description`"
    from fastcore.nbio import cell_frontmatter, md_frontmatter
    for c in nb['cells']:
        s = ''.join(c['source'])
        if c['cell_type'] == 'raw' and (d := cell_frontmatter(s)): return d
        if c['cell_type'] == 'markdown': return md_frontmatter(s)
    return {}

_re_title = re.compile(r'^#\s+\S.*$', re.MULTILINE)
_re_desc = re.compile(r'^>\s+\S.*$', re.MULTILINE)
_re_kv = re.compile(r'^-\s+\S.*:.*\S\s*$', re.MULTILINE)

def _strip_title(src: str) -> str:
    "The first markdown cell without its `# title` and `> description` lines (they become the page's header)"
    rest = _re_desc.sub('', _re_title.sub('', src, count=1), count=1)
    if not _re_kv.sub('', rest).strip(): return ''   # nbdev's convention: a cell of title, description and `- key: value`
    return rest.strip('\n')

_hide_input = {'export', 'exports', 'exporti'}
_re_math = re.compile(r'\$\$.+?\$\$|(?<![\\$\w])\$[^\s$](?:[^$\n]*?[^\s$\\])?\$(?![\w$])|\\\(.+?\\\)|\\\[.+?\\\]', re.DOTALL)

def has_math(markdown: str) -> bool:
    "Does markdown text hold maths (`$...$`, `$$...$$`, `\\(...\\)`, `\\[...\\]`) outside code?"
    text = re.sub(r'```.*?```|`[^`\n]*`', '', markdown, flags=re.DOTALL)
    return bool(_re_math.search(text))

# absolute paths of this machine, as the pages show them instead
class Scrubber:
    "Rewrite this machine's absolute paths: the repository as relative paths, the data root, temporary folders and home as placeholders"
    def __init__(self):
        data = os.environ.get('MLPSCALE_DATA') or str(ROOT.parent / 'shared' / 'data')
        data = str(Path(data).expanduser().resolve())
        self.plain = [(data, '$MLPSCALE_DATA'), (str(ROOT) + '/', ''), (str(ROOT), '.')]
        self.rich = [(data, '$MLPSCALE_DATA'), (str(ROOT) + '/', ''), (str(ROOT), '.')]
        if ROOT.parent != Path('/'): self.plain.append((str(ROOT.parent) + '/', '../')); self.rich.append((str(ROOT.parent) + '/', '../'))
        self.tmp = re.compile(r'(?<![\w.~-])/(?:private/)?(?:var/folders/[^\s/\'"<>]+/[^\s/\'"<>]+/T|tmp|var/tmp)/[^\s/\'"<>),\]]*')
        self.home = re.compile(r'(?<![\w.~-])/(?:root|home/[^\s/\'"<>]+)(?=/|\b)')
        self.rest = re.compile(r'(?<![\w.~-])/(?:work|home|root|tmp)/[^\s\'"<>),\]]*')
        self.hits = {}   # page -> set of what was rewritten

    def __call__(self, s: str, where: str = '', rich: bool = False) -> str:
        if not s or '/' not in s: return s
        before = s
        for a, b in (self.rich if rich else self.plain): s = s.replace(a, b)
        s = self.tmp.sub('&lt;tmp&gt;' if rich else '<tmp>', s)
        s = self.home.sub('~', s)
        s = self.rest.sub(lambda m: '…/' + m.group(0).rstrip('/').rsplit('/', 1)[-1], s)
        if s != before and where: self.hits.setdefault(where, set()).add(before.strip().split('\n')[0][:160])
        return s

SCRUB = Scrubber()
WIDGET = 'application/vnd.jupyter.widget-view+json'
WIDGET_NOTE = ('<div class="widget-note">An interactive widget (ipywidgets) is shown here when the notebook runs: open it in '
               'JupyterLab to use it.</div>')

def _param_table(obj) -> str:
    "An HTML table of `obj`'s parameters (type, default, details), from fastcore's docments; '' where it has none"
    import inspect
    from fastcore.docments import docments
    try: dm = docments(obj, full=True)
    except Exception: return ''
    dm.pop('self', None)
    ret = dm.pop('return', None)
    params = {k: v for k, v in dm.items() if v.get('kind') not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD) or v.get('docment')}
    if not params: return ''
    def fmt(v): return (v if isinstance(v, str) else inspect.formatannotation(v)).replace('typing.', '')
    def code(s): return f'<code>{html.escape(str(s))}</code>' if str(s) else ''
    def details(s): return re.sub(r'^<p>|</p>\s*$', '', _inline_md(s).strip()) if s else ''
    rows = []
    for k, v in params.items():
        anno = '' if v.get('anno', inspect._empty) is inspect._empty else fmt(v['anno'])
        d = v.get('default', inspect._empty)
        rows.append([code(k), code(anno), '' if d is inspect._empty else code(repr(d)), details(v.get('docment'))])
    if ret and ret.get('anno', inspect._empty) not in (inspect._empty, None, type(None)):
        rows.append(['<strong>returns</strong>', code(fmt(ret['anno'])), '', details(ret.get('docment'))])
    head = ['Parameter', 'Type', 'Default', 'Details']
    keep = [i for i in range(4) if i == 0 or any(r[i] for r in rows)]   # a column with nothing in it (often Details: no comments) is left out
    return ('<table class="params"><thead><tr>' + ''.join(f'<th>{head[i]}</th>' for i in keep) + '</tr></thead><tbody>'
            + ''.join('<tr>' + ''.join(f'<td>{r[i]}</td>' for i in keep) + '</tr>' for r in rows) + '</tbody></table>')

def _resolve(expr: str, module):
    "The object a `show_doc(expr)` cell documents, looked up in the notebook's module (or None)"
    obj = module
    for part in expr.split('.'):
        obj = getattr(obj, part, None)
        if obj is None: return None
    return obj

def process(nb_dict, page: Page):
    "Apply nbdev's doc processors to an executed notebook; mark what the template hides or folds; clean the outputs"
    from fastcore.nbio import dict2nb
    from nbdev.process import NBProcessor
    from nbdev.processors import (populate_language, strip_ansi, hide_line, filter_stream_, rm_header_dash, ai_magics,
                                  clean_magics, hide_, add_links, mv_exports, strip_hidden_metadata)
    nb = dict2nb(json.loads(json.dumps(nb_dict)))
    fm = _frontmatter(nb_dict)
    page.title, page.description = str(fm.get('title') or page.src.stem), str(fm.get('description') or '')
    nb.cells = [c for c in nb.cells if c.cell_type != 'raw']
    first_md = next((c for c in nb.cells if c.cell_type == 'markdown'), None)
    if first_md is not None and 'title' in fm: first_md.source = _strip_title(first_md.source)
    module = None
    m = re.search(r'^#\|\s*default_exp\s+(\S+)', '\n'.join(c.source for c in nb.cells if c.cell_type == 'code'), re.MULTILINE)
    if m:
        import importlib
        try: module = importlib.import_module(f'{SITE}.{m.group(1)}')
        except Exception: module = None
    where = page.label

    def _drop(cell):   # `#| include: false`, `#| default_exp` (only a directive), empty cells
        if _flag(cell.directives_, 'include') == 'false' or (not cell.source.strip() and not cell.get('outputs')): del cell['source']

    def _mark(cell):   # what the template shows: show_doc output only; exported sources folded; echo/output: false
        if cell.cell_type != 'code': return
        d, md = cell.directives_, cell.metadata
        if re.match(r'^\s*show_doc', cell.source) or _flag(d, 'echo') == 'false': md['transient'] = {'remove_source': True}
        elif d.keys() & _hide_input: md['docs_fold'] = True
        if _flag(d, 'output') == 'false': cell.outputs = []

    def _params(cell):   # show_doc output with the parameter table from docments
        if cell.cell_type != 'code' or module is None: return
        m = re.match(r'^\s*show_doc\(\s*([A-Za-z_][\w.]*)\s*[,)]', cell.source)
        if not m: return
        obj = _resolve(m.group(1), module)
        if obj is None: return
        for o in cell.get('outputs', []):
            d = o.get('data') or {}
            if 'text/markdown' not in d: continue
            md = ''.join(d['text/markdown']) if isinstance(d['text/markdown'], list) else d['text/markdown']
            auto = getattr(obj, '__doc__', None) or ''
            if isinstance(obj, type) and auto.startswith(obj.__name__ + '('):   # a dataclass without a docstring: not its repr
                md = md.replace(f'*{auto.strip()}*', '').rstrip() + '\n'
            d['text/markdown'] = md
            if (tbl := _param_table(obj)): cell.outputs.append({'output_type': 'display_data', 'metadata': {}, 'data': {'text/html': tbl}})
            break

    def _outputs(cell):   # progress bars as their last state; no empty boxes; widgets as a note; no machine paths
        if cell.cell_type != 'code': return
        keep = []
        for o in cell.get('outputs', []):
            if o.get('output_type') == 'stream':
                t = ''.join(o.text) if isinstance(o.text, list) else o.text
                t = '\n'.join(next((p for p in reversed(l.split('\r')) if p), '') for l in t.split('\n'))
                o.text = SCRUB(t, where)
                if not o.text.strip(): continue
            d = o.get('data')
            if d:
                if WIDGET in d: d.clear(); d['text/html'] = WIDGET_NOTE
                for k in list(d):
                    if k.startswith('text/') or k in ('application/javascript',):
                        v = ''.join(d[k]) if isinstance(d[k], list) else d[k]
                        d[k] = SCRUB(v, where, rich=k in ('text/html', 'text/markdown'))
                if not any((''.join(v) if isinstance(v, list) else str(v)).strip() for v in d.values()): continue
            keep.append(o)
        cell.outputs = keep
        cell.source = SCRUB(cell.source, where)

    procs = [populate_language, _outputs, strip_ansi, hide_line, filter_stream_, rm_header_dash, ai_magics, clean_magics, hide_,
             _mark, _params, add_links, mv_exports, strip_hidden_metadata, _drop]
    NBProcessor(nb=nb, procs=procs, rm_directives=True, process=True)
    for c in nb.cells:
        c.metadata.pop('docs_idx', None); c.metadata.pop('execution', None)
        for a in [k for k in c if k.endswith('_')]: c.pop(a, None)
        if c.cell_type == 'code':   # filter_stream_ and hide_line may have emptied a stream
            c.outputs = [o for o in c.get('outputs', []) if o.get('output_type') != 'stream' or
                         (''.join(o.text) if isinstance(o.text, list) else o.text).strip()]
        if c.cell_type == 'markdown': c.source = SCRUB(c.source, where, rich=True)
    page.has_math = has_math(page.title + '\n' + page.description + '\n' + '\n'.join(c.source for c in nb.cells if c.cell_type == 'markdown'))
    return nb

def _flag(d, k):
    "The value of directive `k` (`#| echo: false` -> 'false'), or None"
    v = (d or {}).get(k)
    return None if v is None else str(v).strip().lower()

# ----------------------------------------------------------------------------------------------------------- rendering
# nbconvert's classic template with exported sources folded, and code cells as Pygments writes them: the template's `clean_html`
# (bleach) there re-parses every highlighted cell, a third of the rendering time, for HTML that Pygments has already escaped
TEMPLATE = r"""{%- extends 'basic/index.html.j2' -%}
{% block input_group -%}
{%- if cell.metadata.get('docs_fold') -%}
<details class="fold"><summary>Exported source</summary>{{ super() }}</details>
{%- else -%}{{ super() }}{%- endif -%}
{%- endblock input_group %}
{% block input %}
<div class="inner_cell">
    <div class="input_area">
{{ cell.source | highlight_code(metadata=cell.metadata) }}
    </div>
</div>
{%- endblock input %}
"""

def _exporter():
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter
    return HTMLExporter(template_name='basic', template_file='docs.html.j2', extra_loaders=[DictLoader({'docs.html.j2': TEMPLATE})],
                        exclude_input_prompt=True, exclude_output_prompt=True, embed_images=True)

_re_attr_link = re.compile(r'\[([^\]]+)\]\(([^)\s]+)\)\{([^}]*)\}')

def _fix_markdown(s: str) -> str:
    "Quarto-only markdown in show_doc output (`[source](url){target=...}`) as a plain link (site.css floats it right)"
    return _re_attr_link.sub(lambda m: f"[{m.group(1)}]({re.sub(r'#LNone$', '', m.group(2))})", s)

def _md_outputs(nb):
    for c in nb.cells:
        for o in c.get('outputs', []):
            d = o.get('data') or {}
            if 'text/markdown' in d:
                v = d['text/markdown']
                d['text/markdown'] = _fix_markdown(''.join(v) if isinstance(v, list) else v)
        if c.cell_type == 'markdown': c.source = _fix_markdown(c.source)

def _localize(body: str, page: Page) -> str:
    "Links into the published site (https://<doc_host><doc_baseurl>/x.html) point at this site's pages; heading ids lowercase, as Quarto's"
    from nbdev.config import get_config
    cfg = get_config(NBS)
    base = f"{str(cfg.doc_host).rstrip('/')}/{str(cfg.doc_baseurl).strip('/')}/".replace(':/', '://').replace(':///', '://')
    up = '../' * page.out.count('/')
    body = re.sub(r'href="' + re.escape(base) + r'([^"#]*)', lambda m: f'href="{up}{m.group(1) or "index.html"}', body)
    body = re.sub(r'(<h[1-6] id=")([^"]+)(")', lambda m: m.group(1) + slug(m.group(2)) + m.group(3), body)
    body = re.sub(r'href="([^":#]+)\.(?:ipynb|md)(#[^"]*)?"', lambda m: f'href="{_out_name(Path(m.group(1) + ".x"))}{m.group(2) or ""}"', body)
    return re.sub(r'href="([^":#]*)#([^"]+)"', lambda m: f'href="{m.group(1)}#{slug(m.group(2))}"', body)   # every link into the site, as the ids

def slug(anchor: str) -> str:
    "A heading's id as Quarto makes it, and every link to it: lower case, letters, digits, `.`, `_` and `-` (`Getting [0, 1] batches` -> `getting-0-1-batches`)"
    return re.sub(r'-{2,}', '-', re.sub(r'[^a-z0-9._-]+', '-', urllib.parse.unquote(html.unescape(anchor)).lower())).strip('-') or 'section'


_re_link = re.compile(r'<a href="([^":#]*)#([^"]+)"([^>]*)>(.*?)</a>', re.S)

def _def_anchor(body: str, name: str) -> str | None:
    "`body` with an anchor `name` at the code that defines it (`def f`, `class C`, `C.method` after `class C`); None where no code on the page does"
    *cls, leaf = name.split('.')
    start = 0
    if cls:
        m = re.search(r'<span class="k">class</span><span class="w"> </span><span class="nc">' + re.escape(cls[-1]) + '</span>', body, re.I)
        if not m: return None
        start = m.start()
    m = re.compile(r'<span class="k">(?:def|class)</span><span class="w"> </span><span class="n[fc]">' + re.escape(leaf) + '</span>', re.I).search(body, start)
    return None if m is None else body[:m.start()] + f'<span id="{html.escape(name)}"></span>' + body[m.start():]

def fix_anchors(bodies: dict[str, str]) -> dict[str, int]:
    """nbdev links every name in backticks that the package exports to `<page>#<name>`, also names the page shows no documentation
    for (private helpers, methods): such a link gets an anchor at the name's definition in the page's code, else points at its
    class's documentation, else at the page itself (on that page: plain code). Changes `bodies` in place; returns the counts."""
    ids = {out: set(re.findall(r'\bid="([^"]+)"', b)) for out, b in bodies.items()}
    where = lambda out, target: posixpath.normpath(posixpath.join(posixpath.dirname(out), target)) if target else out
    missing = {(where(out, m.group(1)), m.group(2)) for out, b in bodies.items() for m in _re_link.finditer(b)}
    missing = {(page, frag) for page, frag in missing if page in bodies and frag not in ids[page]}
    how = {}
    for page, frag in sorted(missing):
        new = _def_anchor(bodies[page], frag)
        if new is not None: bodies[page] = new; how[page, frag] = 'anchored'
        elif '.' in frag and frag.rsplit('.', 1)[0] in ids[page]: how[page, frag] = 'to_class'
        else: how[page, frag] = 'to_page'
    def fixed(out, m):
        target, frag, attrs, inner = m.groups()
        h = how.get((where(out, target), frag))
        if h in (None, 'anchored'): return m.group(0)
        if h == 'to_class': return f'<a href="{target}#{frag.rsplit(".", 1)[0]}"{attrs}>{inner}</a>'
        return inner if where(out, target) == out else f'<a href="{target}"{attrs}>{inner}</a>'
    for out in bodies: bodies[out] = _re_link.sub(lambda m: fixed(out, m), bodies[out])
    return {k: sum(v == k for v in how.values()) for k in ('anchored', 'to_class', 'to_page')}

def _wrap_tables(body: str) -> str:
    "Every table in a box of its own that scrolls sideways, so a wide table never widens the page"
    return re.sub(r'(<table\b.*?</table>)', r'<div class="table-wrap">\1</div>', body, flags=re.DOTALL)

_re_data_img = re.compile(r'src="data:image/(png|jpeg|gif|svg\+xml);base64,([^"]+)"')

def _extract_images(body: str, page: Page, out: Path) -> str:
    "Figures embedded in the page (base64) as files next to it (`<page>_files/`), so pages stay light and thumbnails can point at them"
    folder = Path(page.out).with_suffix('')
    folder = folder.parent / f'{folder.name}_files'
    def repl(m):
        ext = {'png': 'png', 'jpeg': 'jpg', 'gif': 'gif', 'svg+xml': 'svg'}[m.group(1)]
        data = base64.b64decode(m.group(2))
        name = f'fig-{hashlib.sha1(data).hexdigest()[:12]}.{ext}'
        (out / folder).mkdir(parents=True, exist_ok=True)
        (out / folder / name).write_bytes(data)
        page.images.append((folder / name).as_posix())
        return f'src="{folder.name}/{name}"'
    return _re_data_img.sub(repl, body)

def _toc(body: str) -> list[tuple[int, str, str]]:
    "The page's contents: (level, id, text) of its h2 and h3 headings"
    out = []
    for m in re.finditer(r'<h([23]) id="([^"]+)"[^>]*>(.*?)</h\1>', body, re.DOTALL):
        text = html.unescape(re.sub(r'<[^>]+>', '', m.group(3).replace('&#182;', '').replace('¶', ''))).strip()
        if text: out.append((int(m.group(1)), m.group(2), text))
    return out

def render_notebook(nb, page: Page) -> str:
    _md_outputs(nb)
    body, _ = _exporter().from_notebook_node(nb)
    m = re.search(r'<body[^>]*>(.*)</body>', body, re.DOTALL)
    return m.group(1) if m else body

def render_markdown(page: Page) -> str:
    from fastcore.nbio import frontmatter
    from nbconvert.filters.markdown_mistune import markdown2html_mistune
    fm, text = frontmatter(page.src.read_text())
    fm = fm or {}
    m = re.search(r'^#\s+(\S.*?)\s*$', text, re.MULTILINE)
    page.title = str(fm.get('title') or (m.group(1) if m else page.src.stem))
    page.description = str(fm.get('description', ''))
    if not fm.get('title') and m: text = text.replace(m.group(0), '', 1)
    page.has_math = has_math(page.title + '\n' + text)
    return markdown2html_mistune(SCRUB(_fix_markdown(text), page.label, rich=True))

def render_models(page: Page) -> str:
    "The registered models: every listed model built on the meta device (no memory, no weights), its parameters and FLOPs"
    import torch
    from nbconvert.filters.markdown_mistune import markdown2html_mistune
    from mlpscale.models import list_models, model_entry, create_model, count_params, count_flops
    page.title = 'Registered models'
    page.description = 'Every model name the registry lists, with its family, parameters and compute, generated from `mlpscale.models` when the site is built.'
    rows = []
    for name in list_models():
        entry, _ = model_entry(name)
        cells = [f'`{name}`', entry.family or '', entry.doc or (entry.name if entry.name != name else '')]
        for res, classes in ((32, 10), (64, 1000)):
            try:
                with torch.device('meta'): m = create_model(name, num_classes=classes, resolution=res)
                cells += [f'{count_params(m) / 1e6:,.2f} M', f'{count_flops(m, resolution=res) / 1e9:,.3f}']
            except Exception as e:
                cells += ['–', '–']
        rows.append('| ' + ' | '.join(c.replace('|', '\\|') for c in cells) + ' |')
    md = ("Built on PyTorch's meta device, so no weights are made. Parameters and forward FLOPs per image (multiply-adds counted "
          "as two, by `torch.utils.flop_counter`) at 32 px with a 10-class head (CIFAR-10) and at 64 px with a 1000-class head "
          "(the paper's ImageNet resolution). Parametric families accept any size, e.g. `B_12-Wi_1024`: the names below are the "
          "ones `mlpscale models` lists. Make one with `mlpscale.models.create_model(name, num_classes=..., resolution=...)`.\n\n"
          "| model | family | what it is | params (32 px, 10 classes) | GFLOPs (32 px) | params (64 px, 1000 classes) | GFLOPs (64 px) |\n"
          "|---|---|---|---|---|---|---|\n" + '\n'.join(rows) + '\n\n'
          "Published checkpoints (weights of the paper's models) are listed by `mlpscale models --pretrained`; see the "
          "[pretrained](pretrained.html) chapter.\n")
    return markdown2html_mistune(md)

def render_page(page: dict, nb: dict | None, out: Path) -> tuple[dict, str, dict]:
    """One page's HTML body, its figures written as files into `out`; returns the page (a `Page`'s fields: a worker's `__main__`,
    where `Page` would be looked up, is IPython's once a notebook has run there) with what rendering found (title, description,
    maths, contents, figures), the body, and the machine paths it rewrote (`Scrubber.hits`)"""
    page = Page(**page)
    SCRUB.hits = {}
    if page.src is None: body = render_models(page)
    elif page.src.suffix == '.md': body = render_markdown(page)
    else: body = render_notebook(process(nb, page), page)
    body = _wrap_tables(_extract_images(_localize(body, page), page, out))
    page.toc = _toc(body)
    return asdict(page), body, SCRUB.hits

def _nav(pages, page: Page) -> str:
    up = '../' * page.out.count('/')
    out, section = [f'<a class="site" href="{up}index.html">{SITE}</a>', '<ul>'], None
    for p in pages:
        if p.section != section:
            section = p.section
            if section: out.append(f'</ul><div class="section">{html.escape(section)}</div><ul>')
        cur = ' class="current" aria-current="page"' if p is page else ''
        label = 'Home' if p.out == 'index.html' else p.title
        out.append(f'<li><a href="{up}{p.out}" data-section="{html.escape(p.section or "Home")}"{cur}>{html.escape(label)}</a></li>')
    return '\n'.join(out + ['</ul>'])

def _toc_html(page: Page, cls: str) -> str:
    if len(page.toc) < 2: return ''
    items = ''.join(f'<li class="l{l}"><a href="#{i}">{html.escape(t)}</a></li>' for l, i, t in page.toc)
    if cls == 'inline': return f'<details class="toc-inline" data-pagefind-ignore><summary>On this page</summary><ul>{items}</ul></details>'
    return f'<aside class="toc" aria-label="On this page" data-pagefind-ignore><div class="toc-title">On this page</div><ul>{items}</ul></aside>'

def _pager(pages, page: Page) -> str:
    up = '../' * page.out.count('/')
    i = pages.index(page)
    prev, nxt = (pages[i - 1] if i > 0 else None), (pages[i + 1] if i + 1 < len(pages) else None)
    def a(p, cls, word): return (f'<a class="{cls}" href="{up}{p.out}" rel="{cls}"><small>{word}</small>{html.escape("Home" if p.out == "index.html" else p.title)}</a>'
                                 if p else '')
    return f'<nav class="pager" aria-label="previous and next page" data-pagefind-ignore>{a(prev, "prev", "Previous")}{a(nxt, "next", "Next")}</nav>'

def _inline_md(s: str) -> str:
    from nbconvert.filters.markdown_mistune import markdown2html_mistune
    return markdown2html_mistune(s)

def page_html(pages, page: Page, body: str) -> str:
    up = '../' * page.out.count('/')
    desc = f'<div class="description">{_inline_md(page.description)}</div>' if page.description else ''
    title = SITE if page.out == 'index.html' and page.title == SITE else f'{page.title} – {SITE}'
    src = f'<code>nbs/{html.escape(str(page.src.relative_to(NBS)))}</code>' if page.src else 'the model registry (<code>mlpscale.models</code>)'
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title><link rel="icon" href="data:,">
<link rel="stylesheet" href="{up}katex/katex.min.css"><link rel="stylesheet" href="{up}pagefind/pagefind-ui.css">
<link rel="stylesheet" href="{up}site.css"><link rel="stylesheet" href="{up}highlight.css">
<script defer src="{up}katex/katex.min.js"></script><script defer src="{up}katex/contrib/auto-render.min.js"></script>
<script defer src="{up}pagefind/pagefind-ui.js"></script><script defer src="{up}site.js"></script></head>
<body data-root="{up}">
<header class="topbar"><button class="menu" aria-label="pages" aria-controls="sidebar" aria-expanded="false">&#9776;</button>
<a class="site" href="{up}index.html">{SITE}</a><div class="search" role="search"><div id="search"></div></div></header>
<div class="layout">
<nav class="sidebar" id="sidebar" aria-label="site">{_nav(pages, page)}</nav>
<main data-pagefind-body><header class="title"><h1 class="title">{html.escape(page.title)}</h1>{desc}</header>
{_toc_html(page, 'inline')}
{body}
{_pager(pages, page)}
<footer data-pagefind-ignore>Built from {src} by <code>tools/build_docs.py</code>.</footer>
</main>
{_toc_html(page, 'aside')}
</div></body></html>
"""

# ---------------------------------------------------------------------------------------------------------- libraries
def katex_dir() -> Path:
    "KaTeX's `dist/` from `tools/site/node_modules` (npm ci from the lock file when it is missing)"
    dist = SITE_SRC / 'node_modules' / 'katex' / 'dist'
    if not (dist / 'katex.min.js').exists():
        npm = shutil.which('npm')
        if not npm: raise SystemExit('build_docs: KaTeX is not installed and there is no npm: install Node.js and run `npm ci --prefix tools/site`')
        print('installing KaTeX: npm ci --prefix tools/site', flush=True)
        r = subprocess.run([npm, 'ci', '--prefix', str(SITE_SRC), '--no-audit', '--no-fund'], capture_output=True, text=True)
        if r.returncode or not (dist / 'katex.min.js').exists():
            raise SystemExit(f'build_docs: `npm ci --prefix tools/site` failed:\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}')
    return dist

def copy_katex(out: Path):
    dist = katex_dir()
    (out / 'katex' / 'contrib').mkdir(parents=True, exist_ok=True)
    for f in ('katex.min.js', 'katex.min.css', 'contrib/auto-render.min.js'): shutil.copy2(dist / f, out / 'katex' / f)
    shutil.copytree(dist / 'fonts', out / 'katex' / 'fonts', dirs_exist_ok=True)

def run_pagefind(out: Path):
    "Index the built pages (only each page's `data-pagefind-body`, the `main` element) into `out/pagefind/`"
    try: import pagefind  # noqa: F401  (the PyPI package; its binary comes with `pagefind[bin]`)
    except ImportError: raise SystemExit('build_docs: Pagefind is not installed: pip install "pagefind[bin]" (in the dev extra: pip install -e ".[dev]")')
    r = subprocess.run([sys.executable, '-m', 'pagefind', '--site', str(out), '--silent'], capture_output=True, text=True)
    if r.returncode or not (out / 'pagefind' / 'pagefind-ui.js').exists():
        raise SystemExit(f'build_docs: pagefind failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}')

def _highlight_css() -> str:
    from pygments.formatters import HtmlFormatter
    return HtmlFormatter(style='default').get_style_defs('.highlight')

# ---------------------------------------------------------------------------------------------------------------- main
def build(out: Path, n_workers: int, force: bool = False, cell_timeout: int | None = None) -> list[Page]:
    t0 = time.time()
    os.environ.setdefault('MLPSCALE_DATA', str(ROOT.parent / 'shared' / 'data'))
    global SCRUB
    SCRUB = Scrubber()
    if str(ROOT) not in sys.path: sys.path.insert(0, str(ROOT))
    pages = discover()
    if not pages: raise SystemExit('build_docs: no pages: nbs/_quarto.yml lists none and nbs/ has no notebooks')
    tmp = out.with_name(out.name + '.tmp')
    shutil.rmtree(tmp, ignore_errors=True); tmp.mkdir(parents=True)
    try: bodies, times = _execute_and_render_all(pages, tmp, n_workers, force, cell_timeout)
    except BaseException: shutil.rmtree(tmp, ignore_errors=True); raise
    anchors = fix_anchors(bodies)
    for p in pages:
        dest = tmp / p.out
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(page_html(pages, p, bodies[p.out]))
        if TB in dest.read_text(): raise SystemExit(f'build_docs: {p.label} renders a Python traceback')
    listed = {p.src for p in pages if p.src}
    for f in NBS.rglob('*'):   # images and data next to the pages that refer to them
        rel = f.relative_to(NBS)
        if f.is_file() and f.suffix.lower() in ASSETS and not _hidden(rel) and not rel.parts[0] == 'experiments':
            (tmp / rel).parent.mkdir(parents=True, exist_ok=True); shutil.copy2(f, tmp / rel)
    shutil.copy2(SITE_SRC / 'site.css', tmp / 'site.css'); shutil.copy2(SITE_SRC / 'site.js', tmp / 'site.js')
    (tmp / 'highlight.css').write_text(_highlight_css())
    copy_katex(tmp)
    (tmp / '.nojekyll').write_text('')
    (tmp / 'site.json').write_text(json.dumps([dict(out=p.out, title=p.title, section=p.section or 'Home', src=p.src and str(p.src.relative_to(NBS)),
                                                    has_math=p.has_math, toc=len(p.toc)) for p in pages], indent=1))
    run_pagefind(tmp)
    if out.exists(): shutil.rmtree(out)
    tmp.replace(out)
    print(f'build_docs: {len(pages)} pages in {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out} '
          f'({time.time() - t0:.1f} s with {n_workers} worker(s): {len(times)} notebook(s) executed, {sum(times.values()):.1f} s in all; the rest cached)')
    for p in pages: print(f'  {p.out:50s} {p.section or "Home":12s} {p.title}')
    print(f"build_docs: links to names a page does not document: {anchors['anchored']} anchored at their code, "
          f"{anchors['to_class']} sent to their class, {anchors['to_page']} to the page")
    if SCRUB.hits:
        print('build_docs: pages that showed absolute paths of this machine (rewritten; better fixed in the notebook):')
        for where, what in sorted(SCRUB.hits.items()):
            for w in sorted(what)[:6]: print(f'  {where}: {w}')
    unlisted = [p.relative_to(NBS) for p in sorted(NBS.glob('results/*.md')) if p not in listed]
    if unlisted: print('build_docs: results files that are not pages (not in nbs/_quarto.yml): ' + ', '.join(map(str, unlisted)))
    return pages

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--out', type=Path, default=ROOT / '_docs', help='output folder (default: _docs/)')
    ap.add_argument('--n-workers', type=int, default=min(os.cpu_count() or 1, 4), help='notebooks executed in parallel')
    ap.add_argument('--force', action='store_true', help='execute every notebook, ignoring the cache in _proc/docs/')
    ap.add_argument('--cell-timeout', type=int, default=None, help="seconds per cell (default: nbdev's cell_timeout)")
    a = ap.parse_args(argv)
    if a.cell_timeout is None:
        from nbdev.config import get_config
        a.cell_timeout = int(get_config(NBS).get('cell_timeout', 600) or 0) or None
    build(a.out.resolve(), max(1, a.n_workers), a.force, a.cell_timeout)

if __name__ == '__main__': main()
