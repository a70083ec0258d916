"""The shape of the package, read from its code: the chapters (nbs/NN_*.ipynb) are its layers, in their order, and a module imports
only modules of chapters before it -- at the top or inside a function -- so there is no import circle and nothing reaches up. No
private name (`_x`) crosses a module boundary. The long-function and long-cell limits of the development notes are checked too."""
import ast, json, re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / 'mlpscale'

def chapters() -> dict[str, int]:
    "module name -> chapter number, from each numbered notebook's `#| default_exp`."
    out = {}
    for nb in sorted((ROOT / 'nbs').glob('[0-9][0-9]_*.ipynb')):
        for c in json.loads(nb.read_text())['cells']:
            m = re.match(r'#\|\s*default_exp\s+(\S+)', ''.join(c['source']))
            if c['cell_type'] == 'code' and m: out[m.group(1)] = int(nb.name[:2]); break
    return out

def imports(path: Path):
    "(module imported, names imported, line, inside a function?) for every import of the package's own modules in `path`."
    tree = ast.parse(path.read_text())
    inside = {id(n) for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef)) for n in ast.walk(f)}
    for n in ast.walk(tree):
        if isinstance(n, ast.ImportFrom):
            mod = n.module or ''
            if n.level == 1: full = mod
            elif mod == 'mlpscale' or mod.startswith('mlpscale.'): full = mod[len('mlpscale.'):] if mod != 'mlpscale' else ''
            else: continue
            if full == '':    # from . import x, y: the modules themselves
                for a in n.names: yield a.name, [], n.lineno, id(n) in inside
            else: yield full.split('.')[0], [a.name for a in n.names], n.lineno, id(n) in inside
        elif isinstance(n, ast.Import):
            for a in n.names:
                if a.name.startswith('mlpscale.'): yield a.name.split('.')[1], [], n.lineno, id(n) in inside

def modules():
    return sorted(p for p in PKG.glob('*.py') if p.name not in ('__init__.py', '_modidx.py'))

def test_every_module_is_a_chapter():
    order = chapters()
    assert {p.stem for p in modules()} == set(order), 'a module without a numbered chapter, or a chapter without its module'

def test_imports_run_only_down_the_chapters():
    order, bad = chapters(), []
    for p in modules():
        for mod, _, line, _ in imports(p):
            if mod not in order: bad.append(f'{p.name}:{line} imports an unknown module {mod!r}')
            elif order[mod] >= order[p.stem]: bad.append(f'{p.name}:{line} (chapter {order[p.stem]}) imports {mod} (chapter {order[mod]})')
    assert not bad, '\n'.join(bad)

def test_the_package_face_imports_the_model_families_only():
    "mlpscale/__init__.py registers every model family (the one file written by hand): it imports those modules and nothing above them."
    order = chapters()
    got = {mod for mod, *_ in imports(PKG / '__init__.py')}
    assert got == {'models', 'softer', 'cifar_nets'} and max(order[m] for m in got) < order['data']

def test_no_private_name_crosses_a_module():
    bad = [f'{p.name}:{line} imports {n} from {mod}' for p in modules() for mod, names, line, _ in imports(p)
           for n in names if n.startswith('_') and not n.startswith('__')]
    assert not bad, '\n'.join(bad)

def test_functions_and_cells_stay_short():
    "No function of the package over 60 lines; at most 5 exported notebook cells over 60 lines (single classes: a dataclass of flags, a loader); at most 20 imports inside functions (optional dependencies only)."
    long_fns, inner = [], 0
    for p in [*modules(), PKG / '__init__.py']:
        tree = ast.parse(p.read_text())
        for f in ast.walk(tree):
            if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if f.end_lineno - f.lineno + 1 > 60: long_fns.append(f'{p.name}:{f.name} ({f.end_lineno - f.lineno + 1} lines)')
                inner += sum(isinstance(n, (ast.Import, ast.ImportFrom)) for n in ast.walk(f))
    assert not long_fns, long_fns
    cells = [f"{nb.name}: {len(''.join(c['source']).splitlines())} lines" for nb in sorted((ROOT / 'nbs').glob('[0-9][0-9]_*.ipynb'))
             for c in json.loads(nb.read_text())['cells']
             if c['cell_type'] == 'code' and ''.join(c['source']).startswith('#| export') and len(''.join(c['source']).splitlines()) > 60]
    assert len(cells) <= 5, cells
    assert inner <= 20, f'{inner} imports inside functions'
