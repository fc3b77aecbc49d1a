"""The translation table of chapters/appendix_translations.ipynb, for the tests that check it
against the real libraries (test_translations_torch.py, test_translations_keras_optax.py)."""
import json
from pathlib import Path

NOTEBOOK = Path(__file__).resolve().parents[1] / "chapters" / "appendix_translations.ipynb"


def run_tagged_cells(tag):
    """Run the notebook's code cells tagged `tag` in a fresh namespace and return it."""
    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    namespace = {}
    cells = [c for c in nb["cells"]
             if c["cell_type"] == "code" and tag in c.get("metadata", {}).get("tags", [])]
    assert cells, f"no code cell tagged {tag!r} in {NOTEBOOK.name}"
    for cell in cells:
        exec("".join(cell["source"]), namespace)
    return namespace
