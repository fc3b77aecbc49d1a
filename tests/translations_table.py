"""The translation table of chapters/appendix_translations.ipynb and its NumPy ports of PyTorch's,
Keras's and optax's schedules, for the tests that check them: against the real libraries
(test_translations_torch.py, test_translations_keras_optax.py) and against lrcore
(test_schedules.py). The ports are written once, in the appendix; the tests run its cells."""
import json
from pathlib import Path

NOTEBOOK = Path(__file__).resolve().parents[1] / "chapters" / "appendix_translations.ipynb"


def run_tagged_cells(*tags, **names):
    """Run the notebook's code cells tagged with any of `tags`, in the notebook's order, in a
    fresh namespace that starts with `names` (what the appendix's first cell imports, such as
    np and math), and return it."""
    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    namespace = dict(names)
    for tag in tags:
        assert any(c["cell_type"] == "code" and tag in c.get("metadata", {}).get("tags", [])
                   for c in nb["cells"]), f"no code cell tagged {tag!r} in {NOTEBOOK.name}"
    for cell in nb["cells"]:
        if cell["cell_type"] == "code" and set(tags) & set(cell.get("metadata", {}).get("tags", [])):
            exec("".join(cell["source"]), namespace)
    return namespace
