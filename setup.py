"""Everything is configured in pyproject.toml; this file only adds one build step: the experiment notebooks, whose source is
nbs/experiments/, ship inside the package (mlpscale/resources/experiments/), so that `mlpscale run` finds them wherever the
package is installed."""
import shutil
from pathlib import Path
from setuptools import setup
from setuptools.command.build_py import build_py

class BuildWithExperiments(build_py):
    "build_py, then copy nbs/experiments/*.ipynb into the built package."
    def run(self):
        super().run()
        src = Path(__file__).resolve().parent / 'nbs' / 'experiments'
        dest = Path(self.build_lib) / 'mlpscale' / 'resources' / 'experiments'
        dest.mkdir(parents=True, exist_ok=True)
        for nb in sorted(src.glob('*.ipynb')): shutil.copyfile(nb, dest / nb.name)

setup(cmdclass={'build_py': BuildWithExperiments})
