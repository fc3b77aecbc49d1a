"""Re-execute chapter notebooks in place, as `make notebooks` does.

Outputs are made with the NumPy backend and one BLAS thread, so that `pytest --nbval` reproduces
them exactly. Volatile metadata (execution timestamps) is dropped to keep diffs readable.

    python tools/execute_notebooks.py chapters/01_sgd_and_lr.ipynb [...]
"""
import os
import sys
import time
from pathlib import Path

for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"
os.environ["LRCORE_BACKEND"] = "numpy"

import nbformat  # noqa: E402
from nbclient import NotebookClient  # noqa: E402


def execute(path: Path, timeout: int = 600) -> float:
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    elapsed = time.perf_counter() - start
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    nb.metadata.pop("widgets", None)
    nbformat.write(nb, path)
    return elapsed


def main(paths):
    if not paths:
        sys.exit("usage: execute_notebooks.py NOTEBOOK.ipynb [...]")
    for p in map(Path, paths):
        print(f"{p}: {execute(p):.1f} s", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
