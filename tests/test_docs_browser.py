"""The docs site in a real browser: `tools/build_docs.py` builds `_docs/` (its cache makes this cheap right after
`tools/test.sh` built it), a local HTTP server serves it, and headless Chromium visits every page through the navigation,
at 1280 px and at 412 px (a phone): no page scrolls sideways, maths is typeset by KaTeX wherever the source has maths,
every image loads, no page shows a machine's absolute path, a traceback, an error, a warning or an empty output box, and no
page is only a table of run ids. Pagefind's search box finds the locality chapter; the menu button opens the sidebar on a
phone; previous/next links walk the pages in order; the results index is a gallery with a thumbnail of every results page."""
import functools, http.server, json, posixpath, re, subprocess, sys, threading
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit
import pytest
from browser import ROOT, ARTIFACTS, needs_browser, chromium, check_png

pytestmark = [needs_browser, pytest.mark.slow]
SITE = ROOT / '_docs'
TB = 'Traceback (most recent call last)'
ERRORS = '.output_error, [data-mime-type="application/vnd.jupyter.error"], .jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"]'
STDERR = '.output_stderr, [data-mime-type="application/vnd.jupyter.stderr"]'
MACHINE_PATHS = ('/tmp/', '/work/', '/home/', '/root/')
WIDE, NARROW = 1280, 412

def _fresh():
    "Is `_docs/` newer than every notebook, results page, library file and the build's own files? (tools/test.sh just built it)"
    if not (SITE / 'index.html').exists(): return False
    srcs = [*(ROOT / 'nbs').rglob('*.ipynb'), *(ROOT / 'nbs').rglob('*.md'), ROOT / 'nbs' / '_quarto.yml', *(ROOT / 'mlpscale').glob('*.py'),
            ROOT / 'tools' / 'build_docs.py', *(ROOT / 'tools' / 'site').glob('site.*')]
    return (SITE / 'index.html').stat().st_mtime >= max(f.stat().st_mtime for f in srcs if f.exists() and '.ipynb_checkpoints' not in f.parts)

@pytest.fixture(scope='module')
def site():
    "The site (built unless tools/test.sh just built it), served on 127.0.0.1 on a free port: yield the base URL"
    if not _fresh():
        r = subprocess.run([sys.executable, str(ROOT / 'tools' / 'build_docs.py')], cwd=ROOT, capture_output=True, text=True, timeout=1800)
        assert r.returncode == 0, f'the docs build failed:\n{r.stdout[-3000:]}\n{r.stderr[-6000:]}'
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *a): pass
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(Quiet, directory=str(SITE)))
    th = threading.Thread(target=srv.serve_forever, daemon=True); th.start()
    try: yield f'http://127.0.0.1:{srv.server_address[1]}/'
    finally: srv.shutdown(); srv.server_close()

@pytest.fixture(scope='module')
def manifest():
    "The build's list of pages: out, title, section, src, has_math (the source holds maths), toc"
    return {p['out']: p for p in json.loads((SITE / 'site.json').read_text())}

def _nav(page, base):
    "The sidebar's links as (site path, label, section)"
    links = page.eval_on_selector_all('nav.sidebar li a', 'els => els.map(e => [e.href, e.textContent.trim(), e.dataset.section])')
    return [(urlsplit(h).path[len(urlsplit(base).path):], t, s) for h, t, s in links]

def _site_pages(): return {p.relative_to(SITE).as_posix() for p in SITE.rglob('*.html') if 'pagefind' not in p.parts and 'katex' not in p.parts}

def _overflow(page) -> int:
    "How far the page scrolls sideways (0: not at all)"
    return page.evaluate('() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth) - document.documentElement.clientWidth')

def _widest(page) -> str:
    "What sticks out of the viewport, for the failure message"
    return page.evaluate("""() => { const w = document.documentElement.clientWidth; const out = [];
        for (const e of document.querySelectorAll('main *')) { const r = e.getBoundingClientRect();
            if (r.right > w + 1 && getComputedStyle(e).position !== 'fixed') out.push(e.tagName + '.' + e.className + ' ' + Math.round(r.right)); }
        return out.slice(0, 5).join('; '); }""")

def _only_run_ids(page) -> bool:
    "Is the page's content nothing but tables whose first column is run ids (the report's stubs)?"
    return page.evaluate("""() => { const m = document.querySelector('main').cloneNode(true);
        m.querySelectorAll('header.title, nav.pager, footer, details.toc-inline').forEach(e => e.remove());
        const tables = Array.from(m.querySelectorAll('table'));
        const idTables = tables.filter(t => { const h = t.querySelector('th'); return h && /^\\s*(id|run)\\s*$/i.test(h.textContent); });
        const imgs = m.querySelectorAll('img').length;
        tables.forEach(t => t.remove());
        const words = m.textContent.split(/\\s+/).filter(w => w.length > 2).length;
        return idTables.length > 0 && imgs === 0 && words < 40; }""")

def _check_page(page, base, path, label, section, nav_paths, info):
    r = page.goto(base + path, wait_until='load')
    assert r is not None and r.ok, f'{path}: HTTP {r and r.status}'
    h1 = page.inner_text('main h1.title').strip()
    assert h1 and h1 in page.title(), f'{path}: heading {h1!r}, title {page.title()!r}'
    if section != 'Home': assert h1 == label, (path, h1, label)
    assert {p for p, _, _ in _nav(page, base)} == nav_paths, f'{path}: the sidebar does not link every page'
    page.wait_for_function('() => Array.from(document.images).every(i => i.complete)', timeout=15_000)
    imgs = page.evaluate('() => Array.from(document.images).map(i => [i.currentSrc.slice(0, 80), i.naturalWidth])')
    assert all(w > 0 for _, w in imgs), f'{path}: broken images {[s for s, w in imgs if not w]}'
    text = page.inner_text('body')
    assert TB not in text, f'{path} shows a Python traceback'
    assert page.locator(ERRORS).count() == 0, f'{path} shows an error output'
    stderr = page.locator(STDERR).all_inner_texts()   # a warning, a log line or a note on stderr: a demonstration shows what it prints on purpose
    assert not stderr, f'{path} shows {len(stderr)} stderr box(es): {stderr[0][:500]}'
    assert page.locator('.output_area pre:empty, .output_subarea:empty').count() == 0, f'{path} shows an empty output box'
    assert 'VBox(children=' not in text and 'HBox(children=' not in text, f"{path} shows a widget's text stand-in"
    links = page.evaluate('() => Array.from(document.querySelectorAll("[href],[src]")).map(e => e.getAttribute("href") || e.getAttribute("src")).filter(s => !s.startsWith("data:"))')
    for p in MACHINE_PATHS:
        assert p not in text, f'{path} shows a path of this machine: ...{text[max(0, text.index(p) - 80):text.index(p) + 80]}...'
        assert not [l for l in links if p in l], f'{path} links to a path of this machine: {[l for l in links if p in l][:3]}'
    page.wait_for_function("() => document.body.dataset.maths === 'done'", timeout=15_000)
    n_math = page.locator('main .katex').count()
    if info['has_math']: assert n_math > 0, f'{path}: its source has maths, but KaTeX typeset none'
    assert page.locator('.katex-error').count() == 0, f'{path}: KaTeX could not typeset {page.locator(".katex-error").first.inner_text()[:200]}'
    assert '$$' not in page.inner_text('main'), f'{path} shows raw $$ maths'
    assert not _only_run_ids(page), f'{path} is only a table of run ids'
    assert _overflow(page) <= 0, f'{path} scrolls sideways at {WIDE} px: {_widest(page)}'
    page.set_viewport_size({'width': NARROW, 'height': 900})
    page.wait_for_timeout(50)
    assert _overflow(page) <= 0, f'{path} scrolls sideways at {NARROW} px: {_widest(page)}'
    assert not page.locator('nav.sidebar').is_visible() or page.locator('nav.sidebar').bounding_box()['x'] < 0, f'{path}: the sidebar covers the page at {NARROW} px'
    page.set_viewport_size({'width': WIDE, 'height': 900})
    return len(imgs)

def test_every_page_is_reachable_from_the_nav_and_clean(site, manifest):
    with chromium(viewport=(WIDE, 900)) as page:
        page.goto(site + 'index.html')
        assert page.title().startswith('mlpscale')
        nav = _nav(page, site)
        paths = {p for p, _, _ in nav}
        assert paths == _site_pages() == set(manifest), f'pages not in the nav: {_site_pages() - paths}; nav links without a page: {paths - _site_pages()}'
        sections = [s for _, _, s in nav]
        assert sections[0] == 'Home' and sections.index('Chapters') < sections.index('Experiments') < sections.index('Results')
        n_imgs = {}
        for path, label, section in nav:
            n_imgs[path] = _check_page(page, site, path, label, section, paths, manifest[path])
            if section == 'Chapters' and path != 'registered_models.html':   # the API reference: nbdev's show_doc output with parameter tables
                assert page.locator('main .output_markdown h3').count() >= 1, f'{path} shows no show_doc output'
                assert page.locator('main details.fold').count() >= 1, f'{path} shows no exported source'
                assert page.locator('main table.params').count() >= 1, f'{path} shows no parameter table'
            if section == 'Experiments':   # a recorded run, headed by its id, command, machine and budget
                head = page.inner_text('main')
                for word in ('run', 'command', 'machine', 'budget'): assert re.search(rf'^{word}\b', head, re.M), (path, word)
                assert 'mlpscale run ' in head and n_imgs[path] >= 1, path
            if section == 'Results' and path != 'results/index.html':   # one question: a figure, a table, the command
                assert n_imgs[path] >= 1 and page.locator('main table').count() >= 1 and page.locator('main pre, main code').count() >= 1, path
        assert sections.count('Experiments') >= 1 and sum(n_imgs.values()) >= 10

def test_maths_in_headings_and_text_is_typeset(site, manifest):
    with chromium() as page:
        page.goto(site + 'scaling.html', wait_until='load')
        page.wait_for_function("() => document.body.dataset.maths === 'done'")
        assert page.locator('main h2 .katex, main h3 .katex').count() >= 1            # "Fitting $E = a\,C^{-b} + c$"
        assert page.locator('aside.toc .katex').count() >= 1                          # and in the page's contents
        assert not [t for t in page.locator('main h2').all_inner_texts() if '$' in t]
    assert sum(p['has_math'] for p in manifest.values()) >= 3

def test_search_finds_the_locality_chapter(site):
    with chromium() as page:
        page.goto(site + 'index.html', wait_until='load')
        box = page.locator('#search input')
        box.wait_for(state='visible')
        box.fill('locality')
        page.wait_for_selector('.pagefind-ui__result-link', timeout=15_000)
        hrefs = page.eval_on_selector_all('.pagefind-ui__result-link', 'els => els.map(e => e.href)')
        assert any(urlsplit(h).path.endswith('/locality.html') for h in hrefs), hrefs
        first = page.locator('.pagefind-ui__result-link').first
        first.click()
        page.wait_for_url('**/*.html*')
        assert page.locator('main h1.title').inner_text().strip()

def test_contents_and_previous_next(site, manifest):
    order = list(manifest)
    with chromium() as page:
        page.goto(site + 'scaling.html', wait_until='load')
        toc = page.eval_on_selector_all('aside.toc a', 'els => els.map(e => e.getAttribute("href"))')
        assert len(toc) >= 3 and all(page.locator(f'[id="{h[1:]}"]').count() == 1 for h in toc), toc
        page.goto(site + 'index.html', wait_until='load')
        assert page.locator('nav.pager a.prev').count() == 0
        page.locator('nav.pager a.next').click()
        page.wait_for_url(f'**/{order[1]}')
        page.locator('nav.pager a.prev').click()
        page.wait_for_url('**/index.html')
        page.goto(site + order[-1], wait_until='load')
        assert page.locator('nav.pager a.next').count() == 0

def test_the_menu_opens_the_sidebar_on_a_phone(site):
    with chromium(viewport=(NARROW, 860)) as page:
        page.goto(site + 'locality.html', wait_until='load')
        menu, side = page.locator('button.menu'), page.locator('nav.sidebar')
        assert menu.is_visible() and side.bounding_box()['x'] + side.bounding_box()['width'] <= 0
        assert page.locator('details.toc-inline').is_visible() and not page.locator('aside.toc').is_visible()
        menu.click()
        page.wait_for_function("() => document.querySelector('nav.sidebar').getBoundingClientRect().x >= 0")
        link = page.locator('nav.sidebar li a[data-section="Results"]').first
        label = link.inner_text().strip()
        link.click()
        page.wait_for_url('**/results/*.html')
        assert page.inner_text('main h1.title').strip() == label

def test_results_index_is_a_gallery_of_the_results_pages(site, manifest):
    results = {p for p, m in manifest.items() if m['section'] == 'Results' and p != 'results/index.html'}
    with chromium() as page:
        page.goto(site + 'results/index.html', wait_until='load')
        cards = page.eval_on_selector_all('main .gallery a.card', 'els => els.map(e => [e.getAttribute("href"), e.querySelectorAll("img").length])')
        assert {'results/' + h for h, _ in cards} == results and all(n == 1 for _, n in cards), cards
        page.wait_for_function('() => Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)', timeout=15_000)

def test_clicking_the_nav_changes_the_page(site):
    with chromium() as page:
        page.goto(site + 'index.html')
        home_h1 = page.inner_text('main h1.title')
        for section in ('Chapters', 'Experiments', 'Results'):
            link = page.locator(f'nav.sidebar li a[data-section="{section}"]').first
            label, before = link.inner_text().strip(), page.url
            link.click()
            page.wait_for_url(lambda u: u != before)
            assert page.inner_text('main h1.title').strip() == label and label in page.title()
            assert page.locator('nav.sidebar a.current').inner_text().strip() == label
        page.locator('header.topbar a.site').click()
        page.wait_for_url('**/index.html')
        assert page.inner_text('main h1.title') == home_h1

def test_the_home_page_reads_on_a_phone_and_on_a_wide_screen(site):
    "The home page's table of results: on a phone one card per row with every cell in view (no box scrolled sideways); wide, no table cut off."
    with chromium(viewport=(NARROW, 900)) as page:
        page.goto(site + 'index.html', wait_until='load')
        assert page.locator('main table.stack').count() >= 1
        cells = page.eval_on_selector_all('main table.stack td', 'els => els.map(e => [e.getAttribute("data-label"), e.getBoundingClientRect().right])')
        assert len(cells) >= 40 and {c[0] for c in cells} >= {'task', 'command', 'result', 'machine', 'details'}, cells[:6]
        assert max(r for _, r in cells) <= NARROW, f'a cell of the results table reaches {max(r for _, r in cells):.0f} px at {NARROW} px'
        scrolled = page.evaluate('() => Array.from(document.querySelectorAll("main .table-wrap, main pre")).filter(e => e.scrollWidth > e.clientWidth + 1).length')
        assert scrolled == 0, f'{scrolled} table or code box(es) on the home page scroll sideways at {NARROW} px'
    with chromium(viewport=(WIDE, 900)) as page:
        page.goto(site + 'index.html', wait_until='load')
        cut = page.evaluate('() => Array.from(document.querySelectorAll("main .table-wrap, main pre")).filter(e => e.scrollWidth > e.clientWidth + 1).length')
        assert cut == 0, f'{cut} table or code box(es) on the home page are cut at {WIDE} px'

def test_screenshots(site):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shots = []
    for width, path in ((WIDE, 'index.html'), (NARROW, 'index.html'), (WIDE, 'results/index.html'), (WIDE, 'scaling.html'), (NARROW, 'locality.html'), (NARROW, 'results/index.html')):
        with chromium(viewport=(width, 900)) as page:
            page.goto(site + path, wait_until='load')
            page.wait_for_function("() => document.body.dataset.maths === 'done'")
            shot = ARTIFACTS / f'docs-{path.replace("/", "-").removesuffix(".html")}-{width}.png'
            page.screenshot(path=shot)
            shots.append(shot)
    for s in shots: check_png(s, min_size=(400, 400) if s.stem.endswith(f'-{NARROW}') else (600, 400))

def test_zoo_map_page_has_the_maps_the_sortable_table_and_the_machine(site):
    "Issue #14: the zoo map on the site -- the measured machine, the maps (every image loads), the answer in numbers, a sortable table of >= 30 networks."
    import csv
    speed = list(csv.DictReader(open(ROOT / 'nbs' / 'results' / 'zoo_map_cpu_speed.csv')))
    machines = {r['machine'] for r in speed if r.get('machine')}
    assert machines, 'the speed CSV names no machine'
    with chromium() as page:
        page.goto(site + 'results/zoo_map_cpu.html', wait_until='load')
        text = page.inner_text('main')
        assert any(m in text for m in machines), f'the zoo page does not name the machine it measured ({machines})'
        assert 'dominated by' in text and 'img/s' in text, 'the zoo page does not answer the question in numbers'
        page.wait_for_function('() => Array.from(document.images).every(i => i.complete)', timeout=15_000)
        maps = page.eval_on_selector_all('main img', 'els => els.filter(e => /zoo_map_cpu_cifar10+_/.test(e.src)).map(e => e.naturalWidth)')
        assert len(maps) >= 2 and all(w > 0 for w in maps), f'the CIFAR-10 and CIFAR-100 maps did not load: {maps}'
        t = page.locator('main table.sortable').first
        n = t.locator('tbody tr').count()
        assert n >= 30, f'the table has {n} networks'
        heads = t.locator('thead th').all_inner_texts()
        col = next(i for i, h in enumerate(heads) if h.startswith('CIFAR-10 top-1'))
        vals = lambda: [c for c in t.evaluate(f'(t) => Array.from(t.tBodies[0].rows).map(r => r.cells[{col}].getAttribute("data-v"))') if c]
        t.locator('thead th').nth(col).click()
        asc = [float(v) for v in vals()]
        assert len(asc) >= 30 and asc == sorted(asc), 'clicking the CIFAR-10 column does not sort the table'
        t.locator('thead th').nth(col).click()
        desc = [float(v) for v in vals()]
        assert desc == sorted(desc, reverse=True), 'a second click does not reverse the order'

class _Links(HTMLParser):
    "The ids and the `<a href>` targets of one page"
    def __init__(self):
        super().__init__(); self.ids, self.hrefs = set(), []
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get('id'): self.ids.add(a['id'])
        if tag == 'a' and a.get('name'): self.ids.add(a['name'])
        if tag == 'a' and a.get('href'): self.hrefs.append(a['href'])

def test_every_internal_link_reaches_its_page_and_anchor(site):
    "Read from the built files (no browser needed for this one): every link inside the site names a page that exists and, with a #, an id on it"
    pages = {}
    for p in _site_pages():
        parser = _Links(); parser.feed((SITE / p).read_text()); pages[p] = parser
    broken = []
    for p, parser in pages.items():
        for href in parser.hrefs:
            if urlsplit(href).scheme or href.startswith(('//', 'mailto:', 'data:')): continue
            path, _, frag = href.partition('#')
            target = posixpath.normpath(posixpath.join(posixpath.dirname(p), path.split('?')[0])) if path else p
            if target.endswith('/') or target == '.': target = posixpath.join(target, 'index.html')
            if not (SITE / target).exists(): broken.append(f'{p}: {href} (no such file)')
            elif frag and target.endswith('.html') and unquote(frag) not in pages[target].ids: broken.append(f'{p}: {href} (no such anchor)')
    assert not broken, f'{len(broken)} broken links:\n' + '\n'.join(broken[:40])
