"""tools/gpu_acceptance.py: what the full GPU run decides before it has a GPU (its steps run at tiny sizes in tools/test.sh's --smoke)."""
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location('gpu_acceptance', ROOT / 'tools' / 'gpu_acceptance.py')
ga = importlib.util.module_from_spec(spec); spec.loader.exec_module(ga)

def test_scratch_budget_keeps_the_run_within_its_wall_limit():
    assert ga.scratch_budget(60) == 240                                  # quick steps before it: the full 240 s
    b = ga.scratch_budget(300)                                           # slow ones: what is left of the 8 minutes
    assert b == 480 - 45 - 300 and 300 + b + ga.SCRATCH_OVERHEAD_S == ga.WALL_LIMIT_S
    assert ga.scratch_budget(470) == 60                                  # nothing left: still a run worth reading, past the limit

def test_loader_workers_fit_shared_memory():
    b = 16384 * 3 * 64 * 64                                  # one batch of the train step's official-style loader: 201 MB
    assert ga.loader_workers(b, 16, 64 * 2**30) == 12        # a roomy /dev/shm: 12 workers, two cores left
    assert ga.loader_workers(b, 4, 64 * 2**30) == 2          # few cores: two left for the main process
    assert ga.loader_workers(b, 16, 2 * 2**30) == 1          # 2 GiB: one worker's three batches fit in half of it
    assert ga.loader_workers(b, 16, 64 * 2**20) == 0         # a container's default 64 MiB: load in the main process

def test_papermill_stand_in_has_what_a_run_record_reads():
    import sys, pytest
    saved = sys.modules.get('papermill')
    try:
        assert ga._stub_papermill(force=True)
        pm = sys.modules['papermill']
        assert pm.__version__ is None and issubclass(pm.PapermillExecutionError, Exception)   # experiments imported by the paper chapter read the second
        with pytest.raises(ImportError, match='not installed'): pm.execute_notebook('a.ipynb', 'b.ipynb')
    finally:
        if saved is None: sys.modules.pop('papermill', None)
        else: sys.modules['papermill'] = saved
