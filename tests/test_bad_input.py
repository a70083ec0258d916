"""Every CLI command against the table of ordinary mistakes in tests/bad_inputs.py: exit status 2, one `error:` line that names
the value, no traceback, nothing written, no existing file changed. The cases run in-process through `mlpscale.cli.main` (the
function the `mlpscale` command calls), with the working directory set to a folder that already holds runs."""
import contextlib, hashlib, io, os, shlex
from pathlib import Path
import pytest
from bad_inputs import CASES, make_fixtures
from conftest import mlpscale

@pytest.fixture(scope='module')
def ws(tmp_path_factory):
    root = tmp_path_factory.mktemp('ws')
    old = os.getcwd(); os.chdir(root)
    try: fx = make_fixtures(root)
    finally: os.chdir(old)
    return root, fx

def snapshot(root: Path) -> dict:
    "Every path under `root` with the hash of its content (links and folders by name): what must not change."
    out = {}
    for p in sorted(root.rglob('*')):
        rel = str(p.relative_to(root))
        out[rel] = 'link' if p.is_symlink() else 'dir' if p.is_dir() else hashlib.sha1(p.read_bytes()).hexdigest()
    return out

def run_main(args):
    from mlpscale.cli import main
    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        try: rc = main(args)
        except SystemExit as e: rc = e.code
    return rc, out.getvalue(), err.getvalue()

@pytest.mark.parametrize('line,expected', CASES, ids=[c[0][:60] for c in CASES])
def test_bad_input(ws, line, expected, monkeypatch):
    root, fx = ws
    monkeypatch.chdir(root); monkeypatch.setenv('TQDM_DISABLE', '1')
    args = [a.format(**fx) for a in shlex.split(line)]
    before = snapshot(root)
    rc, out, err = run_main(args)
    lines = [l for l in err.splitlines() if l.strip()]
    assert rc == 2, (rc, out, err)
    assert len(lines) == 1 and 'Traceback' not in err, err
    assert lines[0].startswith('error: ') and expected.format(**fx) in lines[0], lines[0]
    assert snapshot(root) == before, 'files were written or changed'
    assert not (root / 'PWNED').exists() and not Path('PWNED').exists()

def test_the_table_through_the_real_command(ws):
    "A few cases again as the shell runs them (`python -m mlpscale.cli`): the same exit status and single line."
    root, fx = ws
    for line, expected in [c for c in CASES if c[0].split()[0] in ('train', 'eval', 'run')][::25]:
        r = mlpscale(*[a.format(**fx) for a in shlex.split(line)], cwd=root)
        lines = [l for l in r.stderr.splitlines() if l.strip()]
        assert r.returncode == 2 and len(lines) == 1 and expected.format(**fx) in lines[0], (line, r.stderr)

def test_count(capsys):
    "The number of cases the table tried (shown by the test command's summary, one test each)."
    with capsys.disabled(): print(f"\nbad-input table: {len(CASES)} cases over {len({c[0].split()[0] for c in CASES})} commands")
    assert len(CASES) >= 60
