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
