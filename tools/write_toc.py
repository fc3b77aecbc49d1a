"""Write _toc.yml from the chapters that exist, in the book's order (used by the lead while chapters land)."""
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PARTS = [
    ("Finding a starting learning rate", True, ["01_sgd_and_lr", "02_range_test"]),
    ("Changing the learning rate while training", True,
     ["03_step_decay", "04_linear_exp_decay", "05_plateau", "06_cyclical", "07_saddle_points", "08_which_schedule"]),
    ("Appendices", False, ["appendix_translations", "appendix_performance", "appendix_api"]),
]

lines = ["# Table of contents (https://jupyterbook.org/en/stable/structure/toc.html)",
         "format: jb-book", "root: intro", "parts:"]
for caption, numbered, names in PARTS:
    files = [f"chapters/{n}" for n in names if any((ROOT / "chapters" / f"{n}{e}").exists() for e in (".ipynb", ".md"))]
    if caption == "Appendices":
        files.append("references")
    if not files:
        continue
    lines += [f"  - caption: {caption}"] + (["    numbered: true"] if numbered else []) + ["    chapters:"]
    lines += [f"      - file: {f}" for f in files]
(ROOT / "_toc.yml").write_text("\n".join(lines) + "\n")
print((ROOT / "_toc.yml").read_text())
