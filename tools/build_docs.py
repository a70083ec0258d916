"""Build the documentation site into `_docs/` without Quarto: every notebook in `nbs/` executed (cwd = its folder, the
cells `nbdev-test` runs), processed by nbdev's own doc processors, rendered to HTML by nbconvert, one page per notebook
with a navigation sidebar on every page.

    python tools/build_docs.py [--n-workers N] [--force] [--out DIR]

Pages: `index.html` from `nbs/index.ipynb`; the numbered notebooks, in order, as chapters (`NN_name.ipynb` ->
`name.html`, the names Quarto gives them); `nbs/experiments/*.ipynb` under "Experiments"; `nbs/results/` (markdown or
notebooks) under "Results". nbdev's processors do what they do for the Quarto site: `show_doc` cells are added after
exported definitions that lack one and only their output is shown, `#| hide` cells are left out, `#| export` sources are
shown folded ("Exported source"), directives are removed, backticked names link to their API reference. Figures are
embedded in the pages (base64). The build fails, naming the notebook and the cell, if any executed cell raises or prints
a traceback, so no page shows one.

Executed notebooks are cached in `_proc/docs/` under a hash of the notebook, the library (`mlpscale/*.py`) and
`pyproject.toml`, so a second build (the browser test's) only re-renders; `--force` executes everything again. A notebook whose
nbdev frontmatter says `skip_exec: true`, or a results notebook that already holds outputs, is rendered from its stored
outputs. The published site is still `nbdev-docs` (Quarto) with `nbs/_quarto.yml` where Quarto is installed.
"""
import argparse, hashlib, html, json, os, re, shutil, sys, time, traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NBS = ROOT / 'nbs'
CACHE = ROOT / '_proc' / 'docs'
ASSETS = {'.png', '.jpg', '.jpeg', '.gif', '.svg', '.webp', '.csv', '.json', '.pdf'}
TB = 'Traceback (most recent call last)'
SITE = 'mlpscale'

# --------------------------------------------------------------------------------------------------------------- pages
@dataclass
class Page:
    src: Path        # source file under nbs/
    section: str     # '' (home), 'Chapters', 'Experiments', 'Results'
    out: str         # path of the html page relative to the site root
    title: str = ''
    description: str = ''

def _out_name(rel: Path) -> str:
    "`02_data.ipynb` -> `data.html` (Quarto's name for it); other files keep their stem"
    stem = re.sub(r'^\d+[a-z]?_', '', rel.stem) or rel.stem
    return (rel.parent / f'{stem}.html').as_posix()

def _hidden(rel: Path) -> bool: return any(p.startswith(('_', '.')) or p == 'runs' for p in rel.parts)

def discover(nbs: Path = NBS) -> list[Page]:
    "The site's pages in navigation order: home, chapters, experiments, results"
    pages = []
    if (nbs / 'index.ipynb').exists(): pages.append(Page(nbs / 'index.ipynb', '', 'index.html'))
    top = sorted(p for p in nbs.glob('*.ipynb') if p.name != 'index.ipynb' and not _hidden(p.relative_to(nbs)))
    numbered = [p for p in top if re.match(r'^\d', p.name)]
    pages += [Page(p, 'Chapters', _out_name(p.relative_to(nbs))) for p in numbered + [p for p in top if p not in numbered]]
    pages += [Page(p, 'Experiments', _out_name(p.relative_to(nbs))) for p in sorted((nbs / 'experiments').glob('*.ipynb'))
              if not _hidden(p.relative_to(nbs))]
    res = nbs / 'results'
    if res.exists():
        pages += [Page(p, 'Results', _out_name(p.relative_to(nbs))) for p in sorted(res.rglob('*'))
                  if p.suffix in ('.ipynb', '.md') and not _hidden(p.relative_to(nbs))]
    seen = {}
    for p in pages:   # two sources with one page name (`01_x.ipynb`, `x.ipynb`): keep the numbered file's full name
        if p.out in seen: p.out = (p.src.relative_to(nbs).parent / f'{p.src.stem}.html').as_posix()
        seen[p.out] = p
    return pages

# ----------------------------------------------------------------------------------------------------------- executing
EXEC_VERSION = 1   # bump when `execute` changes what an executed notebook holds

def _cache_key(src: Path) -> str:
    "Executed notebooks are current while the notebook, the library and the project's settings are unchanged"
    h = hashlib.sha256(f'{EXEC_VERSION}'.encode() + src.read_bytes())
    for f in sorted((ROOT / 'mlpscale').glob('*.py')) + [ROOT / 'pyproject.toml']:
        h.update(f.name.encode()); h.update(f.read_bytes())
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

def _execute_all(pages, n_workers, force, cell_timeout):
    "Executed notebooks for `pages` (path -> nb dict), from the cache where it is current; raise SystemExit on errors"
    todo, done, times = [], {}, {}
    timings_file = CACHE / 'timings.json'
    old_times = json.loads(timings_file.read_text()) if timings_file.exists() else {}
    for p in pages:
        if p.src.suffix != '.ipynb': continue
        raw = json.loads(p.src.read_text())
        fm = _frontmatter(raw)
        if str(fm.get('skip_exec', '')).lower() == 'true' or (p.section == 'Results' and _has_outputs(raw)):
            done[p.src] = raw; continue
        cp, key = _cache_path(p.src), _cache_key(p.src)
        if not force and cp.exists():
            cached = json.loads(cp.read_text())
            if cached['metadata'].get('docs_key') == key: done[p.src] = cached; continue
        todo.append((p.src, key))
    if not todo: return done, times
    todo.sort(key=lambda t: -old_times.get(str(t[0].relative_to(NBS)), t[0].stat().st_size / 1e4))   # longest first
    print(f'executing {len(todo)} notebook(s) with {n_workers} worker(s): ' + ', '.join(str(s.relative_to(NBS)) for s, _ in todo), flush=True)
    errors = []
    # workers find `execute` as `build_docs.execute`: IPython replaces `__main__` in a worker once a notebook has run there
    if str(Path(__file__).parent) not in sys.path: sys.path.insert(0, str(Path(__file__).parent))
    import build_docs
    with ProcessPoolExecutor(n_workers, mp_context=get_context('spawn')) as ex:
        futs = {ex.submit(build_docs.execute, str(s), cell_timeout): (s, key) for s, key in todo}
        for f in as_completed(futs):
            s, key = futs[f]
            rel = str(s.relative_to(NBS))
            try: r = f.result()
            except Exception as e:
                errors.append(f'{rel}: the executor failed: {type(e).__name__}: {e}'); continue
            times[rel] = r['seconds']
            print(f'  {rel}: {r["seconds"]:.1f} s' + (' FAILED' if r['error'] else ''), flush=True)
            if r['error']: errors.append(r['error']); continue
            nb = r['nb']; nb['metadata']['docs_key'] = key
            cp = _cache_path(s); cp.parent.mkdir(parents=True, exist_ok=True)
            tmp = cp.with_suffix('.tmp'); tmp.write_text(json.dumps(nb)); tmp.replace(cp)
            done[s] = nb
    CACHE.mkdir(parents=True, exist_ok=True)
    timings_file.write_text(json.dumps({**old_times, **times}, indent=1))
    if errors:
        sys.stderr.write('\nbuild_docs: executing the notebooks failed, so no site was written:\n\n' + '\n\n'.join(errors) + '\n')
        raise SystemExit(1)
    return done, times

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

def process(nb_dict, page: Page):
    "Apply nbdev's doc processors to an executed notebook; mark what the template hides or folds"
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

    def _drop(cell):   # `#| include: false`, `#| default_exp` (only a directive), empty cells
        if _flag(cell.directives_, 'include') == 'false' or (not cell.source.strip() and not cell.get('outputs')): del cell['source']

    def _mark(cell):   # what the template shows: show_doc output only; exported sources folded; echo/output: false
        if cell.cell_type != 'code': return
        d, md = cell.directives_, cell.metadata
        if re.match(r'^\s*show_doc', cell.source) or _flag(d, 'echo') == 'false': md['transient'] = {'remove_source': True}
        elif d.keys() & _hide_input: md['docs_fold'] = True
        if _flag(d, 'output') == 'false': cell.outputs = []

    def _carriage_returns(cell):   # a progress bar's updates (`\r`) as a terminal shows them: its last state
        for o in cell.get('outputs', []):
            if o.get('output_type') == 'stream':
                t = ''.join(o.text) if isinstance(o.text, list) else o.text
                o.text = '\n'.join(next((p for p in reversed(l.split('\r')) if p), '') for l in t.split('\n'))

    procs = [populate_language, _carriage_returns, strip_ansi, hide_line, filter_stream_, rm_header_dash, ai_magics, clean_magics, hide_,
             _mark, add_links, mv_exports, strip_hidden_metadata, _drop]
    NBProcessor(nb=nb, procs=procs, rm_directives=True, process=True)
    for c in nb.cells:
        c.metadata.pop('docs_idx', None); c.metadata.pop('execution', None)
        for a in [k for k in c if k.endswith('_')]: c.pop(a, None)
    return nb

def _flag(d, k):
    "The value of directive `k` (`#| echo: false` -> 'false'), or None"
    v = (d or {}).get(k)
    return None if v is None else str(v).strip().lower()

# ----------------------------------------------------------------------------------------------------------- rendering
TEMPLATE = r"""{%- extends 'basic/index.html.j2' -%}
{% block input_group -%}
{%- if cell.metadata.get('docs_fold') -%}
<details class="fold"><summary>Exported source</summary>{{ super() }}</details>
{%- else -%}{{ super() }}{%- endif -%}
{%- endblock input_group %}
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
    body = re.sub(r'(<h[1-6] id=")([^"]+)(")', lambda m: m.group(1) + m.group(2).lower() + m.group(3), body)
    return re.sub(r'(class="anchor-link" href="#)([^"]+)(")', lambda m: m.group(1) + m.group(2).lower() + m.group(3), body)

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
    return markdown2html_mistune(_fix_markdown(text))

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

def _css() -> str:
    from pygments.formatters import HtmlFormatter
    return HtmlFormatter(style='default').get_style_defs('.highlight') + r"""
*{box-sizing:border-box} body{margin:0;font:16px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#212529}
nav.sidebar{position:fixed;top:0;left:0;bottom:0;width:250px;overflow-y:auto;padding:1rem;background:#f6f8fa;border-right:1px solid #dee2e6;font-size:.92rem}
nav.sidebar a.site{display:block;font-weight:700;font-size:1.25rem;margin-bottom:.5rem;color:#2780e3;text-decoration:none}
nav.sidebar ul{list-style:none;margin:0;padding:0} nav.sidebar li a{display:block;padding:.2rem .4rem;border-radius:4px;color:#343a40;text-decoration:none}
nav.sidebar li a:hover{background:#e9ecef} nav.sidebar li a.current{background:#2780e3;color:#fff}
nav.sidebar .section{margin:.9rem 0 .3rem;font-weight:600;text-transform:uppercase;font-size:.75rem;color:#6c757d;letter-spacing:.05em}
main{margin-left:250px;padding:1.5rem 2.5rem;max-width:1100px} header.title h1{margin:.2rem 0 .4rem;font-size:2.1rem}
header.title .description p{font-size:1.1rem;color:#555;margin-top:0}
.output_markdown p>a[href*="/blob/"]:only-child{float:right;font-size:smaller} a{color:#2780e3}
.cell{margin:.9rem 0} .highlight{background:#f7f7f9;border-radius:4px;overflow-x:auto} .highlight pre{margin:0;padding:.6rem .8rem}
main pre{background:#f7f7f9;padding:.6rem .8rem;border-radius:4px;overflow-x:auto;font-size:.88rem}
.output_area pre{background:none;margin:.2rem 0;padding:.3rem .8rem;border-left:3px solid #dee2e6}
.output_stderr pre{border-left-color:#f0ad4e;background:#fffaf0} .output_area img{max-width:100%;height:auto}
.output_markdown h3{border-top:1px solid #dee2e6;padding-top:.6rem} .output_markdown hr{display:none}
details.fold>summary{cursor:pointer;color:#6c757d;font-size:.9rem} table{border-collapse:collapse;margin:.6rem 0}
th,td{border:1px solid #dee2e6;padding:.25rem .6rem} thead{background:#f6f8fa} .anchor-link{visibility:hidden;margin-left:.3rem;text-decoration:none}
h1:hover .anchor-link,h2:hover .anchor-link,h3:hover .anchor-link{visibility:visible} code{font-size:.9em}
blockquote{margin:0;padding:.2rem 1rem;border-left:4px solid #dee2e6;color:#555}
footer{margin-top:3rem;color:#6c757d;font-size:.85rem}
"""

def _inline_md(s: str) -> str:
    from nbconvert.filters.markdown_mistune import markdown2html_mistune
    return markdown2html_mistune(s)

def page_html(pages, page: Page, body: str) -> str:
    up = '../' * page.out.count('/')
    desc = f'<div class="description">{_inline_md(page.description)}</div>' if page.description else ''
    title = SITE if page.out == 'index.html' and page.title == SITE else f'{page.title} – {SITE}'
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title><link rel="icon" href="data:,"><link rel="stylesheet" href="{up}site.css"></head>
<body><nav class="sidebar" aria-label="site">{_nav(pages, page)}</nav>
<main><header class="title"><h1 class="title">{html.escape(page.title)}</h1>{desc}</header>
{_localize(body, page)}
<footer>Built from <code>nbs/{html.escape(str(page.src.relative_to(NBS)))}</code> by <code>tools/build_docs.py</code>.</footer>
</main></body></html>
"""

# ---------------------------------------------------------------------------------------------------------------- main
def build(out: Path, n_workers: int, force: bool = False, cell_timeout: int | None = None) -> list[Page]:
    t0 = time.time()
    os.environ.setdefault('MLPSCALE_DATA', str(ROOT.parent / 'shared' / 'data'))
    pages = discover()
    if not pages: raise SystemExit('build_docs: no notebooks found in nbs/')
    executed, times = _execute_all(pages, n_workers, force, cell_timeout)
    t_exec = time.time() - t0
    tmp = out.with_name(out.name + '.tmp')
    shutil.rmtree(tmp, ignore_errors=True); tmp.mkdir(parents=True)
    bodies = {}
    for p in pages:
        bodies[p.out] = render_markdown(p) if p.src.suffix == '.md' else render_notebook(process(executed[p.src], p), p)
    for p in pages:
        dest = tmp / p.out
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(page_html(pages, p, bodies[p.out]))
        if TB in dest.read_text(): raise SystemExit(f'build_docs: {p.src.relative_to(NBS)} renders a Python traceback')
    for f in NBS.rglob('*'):   # images and data next to the notebooks that pages refer to
        rel = f.relative_to(NBS)
        if f.is_file() and f.suffix.lower() in ASSETS and not _hidden(rel):
            (tmp / rel).parent.mkdir(parents=True, exist_ok=True); shutil.copy2(f, tmp / rel)
    (tmp / 'site.css').write_text(_css())
    (tmp / '.nojekyll').write_text('')
    if out.exists(): shutil.rmtree(out)
    tmp.replace(out)
    print(f'build_docs: {len(pages)} pages in {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out} '
          f'({time.time() - t0:.1f} s: {t_exec:.1f} s executing {len(times)} notebook(s), the rest cached or rendering)')
    for p in pages: print(f'  {p.out:32s} {p.section or "Home":12s} {p.title}')
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
