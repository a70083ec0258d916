"""The docs site in a real browser: `tools/build_docs.py` builds `_docs/` (its cache makes this cheap right after
`tools/test.sh` built it), a local HTTP server serves it, and headless Chromium visits every page through the navigation."""
import functools, http.server, subprocess, sys, threading
from pathlib import Path
from urllib.parse import urlsplit
import pytest
from browser import ROOT, ARTIFACTS, needs_browser, chromium, check_png

pytestmark = [needs_browser, pytest.mark.slow]
SITE = ROOT / '_docs'
TB = 'Traceback (most recent call last)'
ERRORS = '.output_error, [data-mime-type="application/vnd.jupyter.error"], .jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"]'
STDERR = '.output_stderr, [data-mime-type="application/vnd.jupyter.stderr"]'

def _fresh():
    "Is `_docs/` newer than every notebook, results page, library file and the build script? (tools/test.sh just built it)"
    if not (SITE / 'index.html').exists(): return False
    srcs = [*(ROOT / 'nbs').rglob('*.ipynb'), *(ROOT / 'nbs').rglob('*.md'), *(ROOT / 'mlpscale').glob('*.py'), ROOT / 'tools' / 'build_docs.py']
    return (SITE / 'index.html').stat().st_mtime >= max(f.stat().st_mtime for f in srcs if '.ipynb_checkpoints' not in f.parts)

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

def _nav(page, base):
    "The sidebar's links as (site path, label, section)"
    links = page.eval_on_selector_all('nav.sidebar li a', 'els => els.map(e => [e.href, e.textContent.trim(), e.dataset.section])')
    return [(urlsplit(h).path[len(urlsplit(base).path):], t, s) for h, t, s in links]

def _site_pages(): return {p.relative_to(SITE).as_posix() for p in SITE.rglob('*.html')}

def _check_page(page, base, path, label, section, nav_paths):
    r = page.goto(base + path, wait_until='load')
    assert r is not None and r.ok, f'{path}: HTTP {r and r.status}'
    h1 = page.inner_text('main h1.title').strip()
    assert h1 and h1 in page.title(), f'{path}: heading {h1!r}, title {page.title()!r}'
    if section != 'Home': assert h1 == label, (path, h1, label)
    assert {p for p, _, _ in _nav(page, base)} == nav_paths, f'{path}: the sidebar does not link every page'
    page.wait_for_function('() => Array.from(document.images).every(i => i.complete)', timeout=15_000)
    imgs = page.evaluate('() => Array.from(document.images).map(i => [i.currentSrc.slice(0, 60), i.naturalWidth])')
    assert all(w > 0 for _, w in imgs), f'{path}: broken images {[s for s, w in imgs if not w]}'
    text = page.inner_text('body')
    assert TB not in text, f'{path} shows a Python traceback'
    assert page.locator(ERRORS).count() == 0, f'{path} shows an error output'
    for t in page.locator(STDERR).all_inner_texts(): assert 'Error' not in t and TB not in t, f'{path} stderr: {t[:500]}'
    return len(imgs)

def test_every_page_is_reachable_from_the_nav_and_clean(site):
    with chromium() as page:
        page.goto(site + 'index.html')
        assert page.title().startswith('mlpscale')
        nav = _nav(page, site)
        paths = {p for p, _, _ in nav}
        assert paths == _site_pages(), f'pages not in the nav: {_site_pages() - paths}; nav links without a page: {paths - _site_pages()}'
        sections = [s for _, _, s in nav]
        assert sections[0] == 'Home' and 'Chapters' in sections and 'Experiments' in sections
        n_imgs = {}
        for path, label, section in nav:
            n_imgs[path] = _check_page(page, site, path, label, section, paths)
            if section == 'Chapters':   # the API reference: nbdev's show_doc output, rendered
                assert page.locator('main .output_markdown h3').count() >= 1, f'{path} shows no show_doc output'
                assert page.locator('main details.fold').count() >= 1, f'{path} shows no exported source'
        assert 'experiments/train.html' in paths and n_imgs['experiments/train.html'] >= 1   # the learning curve
        assert sum(n_imgs.values()) >= 3

def test_clicking_the_nav_changes_the_page(site):
    with chromium() as page:
        page.goto(site + 'index.html')
        home_h1 = page.inner_text('main h1.title')
        for section in ('Chapters', 'Experiments'):
            link = page.locator(f'nav.sidebar li a[data-section="{section}"]').first
            label, before = link.inner_text().strip(), page.url
            link.click()
            page.wait_for_url(lambda u: u != before)
            assert page.inner_text('main h1.title').strip() == label and label in page.title()
            assert page.locator('nav.sidebar a.current').inner_text().strip() == label
        page.locator('nav.sidebar a.site').click()
        page.wait_for_url('**/index.html')
        assert page.inner_text('main h1.title') == home_h1

def test_screenshots(site):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pages = _site_pages()
    other = next((p for p in sorted(pages) if p.startswith('results/')), 'experiments/train.html')
    with chromium() as page:
        page.goto(site + 'index.html', wait_until='load')
        page.screenshot(path=ARTIFACTS / 'docs-index.png')
        page.goto(site + other, wait_until='load')
        if page.locator('main img').count(): page.locator('main img').first.scroll_into_view_if_needed()
        shot = ARTIFACTS / f'docs-{other.replace("/", "-").removesuffix(".html")}.png'
        page.screenshot(path=shot)
    check_png(ARTIFACTS / 'docs-index.png')
    check_png(shot)
