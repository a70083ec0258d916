"""JupyterLab as the README tells a user to start it, driven in headless Chromium: open the training experiment, run all
cells through the menu, and check that the learning curve is drawn and nothing failed. The notebook is served from a
copy in a temporary folder, so JupyterLab's saves never touch `nbs/`."""
import hashlib, json, os, re, secrets, shutil, signal, subprocess, sys, time, urllib.request
from pathlib import Path
import pytest
from browser import ROOT, ARTIFACTS, needs_browser, chromium, free_port, check_png

pytestmark = [needs_browser, pytest.mark.slow]
NB = ROOT / 'nbs' / 'experiments' / 'train.ipynb'
RUN_TIMEOUT = int(os.environ.get("MLPSCALE_LAB_TIMEOUT", 180))   # seconds for Run All Cells (the notebook's CI-sized defaults train in seconds)

def _settings(d: Path):
    "User settings for this server only: no autosave, every cell in the DOM, no news fetched"
    for plugin, s in {'docmanager-extension/plugin': {'autosave': False},
                      'notebook-extension/tracker': {'windowingMode': 'none'},
                      'apputils-extension/notification': {'fetchNews': 'false', 'checkForUpdates': False}}.items():
        f = d / '@jupyterlab' / f'{plugin}.jupyterlab-settings'
        f.parent.mkdir(parents=True, exist_ok=True); f.write_text(json.dumps(s))

@pytest.fixture
def lab(tmp_path):
    "`jupyter lab` on a free port with a random token, root dir = a temp folder holding a copy of the notebook"
    work = tmp_path / 'work'; work.mkdir()
    shutil.copy2(NB, work / NB.name)
    _settings(tmp_path / 'settings')
    token, port = secrets.token_hex(16), free_port()
    jupyter = Path(sys.executable).with_name('jupyter')
    env = {**os.environ, 'JUPYTERLAB_SETTINGS_DIR': str(tmp_path / 'settings'), 'JUPYTERLAB_WORKSPACES_DIR': str(tmp_path / 'ws'),
           'JUPYTER_RUNTIME_DIR': str(tmp_path / 'runtime'), 'JUPYTER_CONFIG_DIR': str(tmp_path / 'config')}
    env.pop('MPLBACKEND', None)   # the kernel's inline backend draws the plot
    log = open(tmp_path / 'jupyter.log', 'w')
    proc = subprocess.Popen([str(jupyter), 'lab', '--ip', '127.0.0.1', '--no-browser', '--allow-root', f'--ServerApp.token={token}',
                             '--port', str(port), '--ServerApp.port_retries=0', f'--ServerApp.root_dir={work}'],
                            cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f'http://127.0.0.1:{port}'
    try:
        deadline = time.time() + 90
        while True:
            assert proc.poll() is None, f'jupyter lab exited ({proc.returncode}):\n{(tmp_path / "jupyter.log").read_text()[-3000:]}'
            try:
                with urllib.request.urlopen(f'{base}/api/status?token={token}', timeout=5) as r:
                    if r.status == 200: break
            except OSError: pass
            assert time.time() < deadline, f'jupyter lab did not answer in 90 s:\n{(tmp_path / "jupyter.log").read_text()[-3000:]}'
            time.sleep(0.5)
        yield dict(base=base, token=token, work=work, log=tmp_path / 'jupyter.log')
    finally:
        try: urllib.request.urlopen(urllib.request.Request(f'{base}/api/shutdown?token={token}', method='POST'), timeout=10)
        except OSError: pass
        try: proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGTERM)
            try: proc.wait(10)
            except subprocess.TimeoutExpired: os.killpg(proc.pid, signal.SIGKILL); proc.wait(10)
        log.close()

_prompts_done = """() => {
  const ps = Array.from(document.querySelectorAll('.jp-NotebookPanel .jp-CodeCell .jp-InputPrompt'));
  return ps.length > 0 && ps.every(p => /\\[\\d+\\]/.test(p.textContent));
}"""

_started = """() => Array.from(document.querySelectorAll('.jp-NotebookPanel .jp-CodeCell .jp-InputPrompt'))
                     .some(p => /\\[(\\*|\\d+)\\]/.test(p.textContent))"""

def _failure(page, lab, what: str) -> AssertionError:
    "What went wrong, with a screenshot, the text of any open JupyterLab dialog (it takes every click) and the server's log"
    ARTIFACTS.mkdir(parents=True, exist_ok=True); page.screenshot(path=ARTIFACTS / 'jupyterlab-failure.png')
    d = page.locator('.jp-Dialog')
    dialog = ' | '.join(t.strip() for t in d.all_inner_texts()) if d.count() else None
    return AssertionError(f"{what}; JupyterLab's dialog: {dialog!r} (screenshot: {ARTIFACTS / 'jupyterlab-failure.png'}); "
                          f"server log:\n{lab['log'].read_text()[-3000:]}")

def _run_all_cells(page, lab, tries=10):
    "Run > Run All Cells, retried until the menu item is enabled (the notebook and its kernel ready) and execution starts"
    label = re.compile(r'^\s*Run All Cells\s*$')
    for _ in range(tries):
        try: page.locator('.lm-MenuBar-item', has_text=re.compile(r'^\s*Run\s*$')).click(timeout=15_000)
        except Exception: raise _failure(page, lab, 'the Run menu could not be clicked') from None
        item = page.locator('.lm-Menu-item', has=page.locator('.lm-Menu-itemLabel', has_text=label))
        item.wait_for(state='visible', timeout=10_000)
        if 'lm-mod-disabled' not in (item.get_attribute('class') or ''):
            item.click()
            try: page.wait_for_function(_started, timeout=15_000); return
            except Exception: pass
        else: page.keyboard.press('Escape')
        page.wait_for_timeout(2000)
    raise AssertionError('Run > Run All Cells never started the notebook')

def test_run_all_cells_of_the_training_experiment(lab):
    before = hashlib.sha256(NB.read_bytes()).hexdigest()
    t0 = time.time()
    with chromium(viewport=(1400, 1000)) as page:
        page.goto(f"{lab['base']}/lab/tree/{NB.name}?token={lab['token']}", wait_until='load', timeout=60_000)
        page.wait_for_selector('.jp-NotebookPanel .jp-CodeCell', timeout=60_000)
        page.wait_for_selector('.jp-NotebookPanel-toolbar .jp-Notebook-ExecutionIndicator[data-status="idle"]', timeout=90_000)
        n_code = sum(c['cell_type'] == 'code' for c in json.loads(NB.read_text())['cells'])
        page.wait_for_function(f"() => document.querySelectorAll('.jp-NotebookPanel .jp-CodeCell').length === {n_code}", timeout=30_000)
        page.locator('.jp-NotebookPanel .jp-InputPrompt').first.click()      # the notebook is the current widget
        _run_all_cells(page, lab)
        try: page.wait_for_function(_prompts_done, timeout=RUN_TIMEOUT * 1000)
        except Exception:
            prompts = page.locator('.jp-NotebookPanel .jp-CodeCell .jp-InputPrompt').all_inner_texts()
            raise _failure(page, lab, f'Run All Cells did not finish in {RUN_TIMEOUT} s; prompts {prompts}') from None
        page.wait_for_selector('.jp-NotebookPanel-toolbar .jp-Notebook-ExecutionIndicator[data-status="idle"]', timeout=30_000)
        outputs = page.locator('.jp-NotebookPanel .jp-OutputArea-output')
        text = '\n'.join(outputs.all_inner_texts())
        errors = [t for t in page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]').all_inner_texts()
                  if 'Traceback' in t or 'Error' in t]
        assert not errors, 'error output:\n' + '\n'.join(errors)[:3000]
        assert page.locator('.jp-OutputArea-output.jp-mod-error, .jp-OutputArea-child .jp-mod-error').count() == 0
        assert 'test_top1' in text, text[:2000]
        img = page.locator('.jp-NotebookPanel .jp-OutputArea-output img').first
        img.scroll_into_view_if_needed()
        assert img.evaluate('i => i.complete && i.naturalWidth') > 200      # the learning curve
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=ARTIFACTS / 'jupyterlab-train.png')
    print(f'JupyterLab run all: {time.time() - t0:.1f} s')
    check_png(ARTIFACTS / 'jupyterlab-train.png')
    assert hashlib.sha256(NB.read_bytes()).hexdigest() == before, 'the test changed nbs/experiments/train.ipynb'
