"""Headless Chromium for the browser tests: Debian's `chromium` driven by Playwright for Python (no downloaded browsers:
never `playwright install`). Tests using it skip, with the reason, where either is missing."""
import contextlib, os, shutil, socket
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get('MLPSCALE_CHROMIUM') or shutil.which('chromium') or '/usr/bin/chromium'
ARGS = ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--no-first-run']
ARTIFACTS = Path(os.environ.get('MLPSCALE_TEST_ARTIFACTS', ROOT / 'tests' / 'artifacts'))

try: import playwright.sync_api as _pw
except ImportError: _pw = None

needs_browser = pytest.mark.skipif(
    _pw is None or not Path(CHROMIUM).exists(),
    reason=('Playwright for Python is not installed (pip install -e ".[dev]")' if _pw is None else
            f'no Chromium at {CHROMIUM} (apt-get install -y chromium; .ci/run installs it)'))

@contextlib.contextmanager
def chromium(viewport=(1280, 900)):
    "A fresh headless Chromium page; the browser is closed on exit"
    with _pw.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            ctx = browser.new_context(viewport={'width': viewport[0], 'height': viewport[1]})
            page = ctx.new_page()
            page.set_default_timeout(30_000)
            yield page
        finally: browser.close()

def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]

def check_png(path: Path, min_bytes=10_000, min_colors=16, min_size=(600, 400)):
    "Assert `path` is a real screenshot: a PNG of some size with many colours (not a blank page)"
    from PIL import Image
    data = Path(path).read_bytes()
    assert data[:8] == b'\x89PNG\r\n\x1a\n', f'{path} is not a PNG'
    assert len(data) > min_bytes, f'{path} is only {len(data)} bytes'
    with Image.open(path) as im:
        assert im.width >= min_size[0] and im.height >= min_size[1], im.size
        colors = im.convert('RGB').getcolors(maxcolors=1 << 20)
        assert colors is None or len(colors) >= min_colors, f'{path} has only {len(colors)} colours'
