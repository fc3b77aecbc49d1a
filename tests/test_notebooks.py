"""Guards for the stored chapter notebooks, which `pytest --nbval` checks cell by cell.

nbval silently skips a code cell that has no stored execution, so every code cell must have been
executed, in order, in one top-to-bottom run (`make notebooks`). The table of contents and the
chapters folder must agree, and stored outputs hold no errors and no warnings.
"""
import json
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "chapters").glob("*.ipynb"))


def _toc_files():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [c["file"] for c in part.get("chapters", [])]
        files += [s["file"] for c in part.get("chapters", []) for s in c.get("sections", [])]
    return files


def _code_cells(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    return nb, [c for c in nb["cells"] if c["cell_type"] == "code" and "".join(c["source"]).strip()]


def test_toc_and_chapters_agree():
    in_toc = set(_toc_files())
    on_disk = {f"chapters/{p.stem}" for p in NOTEBOOKS}
    assert on_disk <= in_toc, f"notebooks missing from _toc.yml: {sorted(on_disk - in_toc)}"
    for f in in_toc:
        assert any((ROOT / (f + ext)).exists() for ext in (".md", ".ipynb")), f"_toc.yml names missing {f}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_code_cell_was_executed_in_one_run(path):
    nb, cells = _code_cells(path)
    counts = [c.get("execution_count") for c in cells]
    assert None not in counts, f"{path.name}: {counts.count(None)} code cells have no stored execution"
    assert counts == list(range(1, len(cells) + 1)), f"{path.name}: not one top-to-bottom run: {counts}"
    assert nb["metadata"]["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_stored_outputs_hold_no_error_and_no_warning(path):
    _, cells = _code_cells(path)
    for i, cell in enumerate(cells):
        for out in cell.get("outputs", []):
            assert out["output_type"] != "error", f"{path.name} code cell {i}: stored error {out.get('ename')}"
            if out.get("name") == "stderr":
                text = "".join(out["text"])
                assert "Warning" not in text, f"{path.name} code cell {i}: stored warning: {text[:300]}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_figures_are_stored_with_text_that_nbval_checks(path):
    """nbval skips PNGs: a cell that draws a figure must also print the numbers it shows."""
    _, cells = _code_cells(path)
    for i, cell in enumerate(cells):
        outs = cell.get("outputs", [])
        has_png = any("image/png" in o.get("data", {}) for o in outs)
        has_text = any(o.get("name") == "stdout" or "text/plain" in o.get("data", {}) and "image/png" not in o.get("data", {})
                       or "text/html" in o.get("data", {}) for o in outs)
        if has_png and "nbval-ignore-output" not in cell.get("metadata", {}).get("tags", []):
            assert has_text, f"{path.name} code cell {i} draws a figure but prints nothing nbval can compare"


#: The longest code line the HTML book shows without a sideways scroll bar at 1280 px (with the
#: book's 13 px code font, 83 characters of DejaVu Sans Mono fit; tests/test_browser.py checks
#: the rendered pages), kept with a small margin for other monospace fonts.
MAX_CODE_LINE = 79


def _long_lines(text):
    return [f"{len(line)} chars: {line.strip()[:50]}" for line in text.splitlines() if len(line) > MAX_CODE_LINE]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_code_lines_fit_the_page(path):
    _, cells = _code_cells(path)
    long = [f"cell {i}: {line}" for i, cell in enumerate(cells) for line in _long_lines("".join(cell["source"]))]
    assert not long, f"{path.name}: {len(long)} code lines longer than {MAX_CODE_LINE} characters: {long[:6]}"


#: printed output fits its box at 1280 px (the 13 px code font holds 83 characters)
MAX_OUTPUT_LINE = 83


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_printed_output_fits_the_page(path):
    """What a cell prints (streams and text results) does not scroll sideways either."""
    _, cells = _code_cells(path)
    long = []
    for i, cell in enumerate(cells):
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if out.get("output_type") == "stream":
                text = "".join(out["text"])
            elif "text/plain" in data and not {"text/html", "image/png"} & set(data):
                text = "".join(data["text/plain"])
            else:
                continue
            long += [f"cell {i}: {len(line)} chars: {line.strip()[:50]}"
                     for line in text.splitlines() if len(line) > MAX_OUTPUT_LINE]
    assert not long, (f"{path.name}: {len(long)} printed lines longer than "
                      f"{MAX_OUTPUT_LINE} characters: {long[:6]}")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_included_code_fits_the_page(path):
    """The lrcore code a chapter shows with {literalinclude} (and its other code blocks) fits too."""
    import re
    import sys
    sys.path.insert(0, str(ROOT / "tools"))
    import reading_copies
    nb = reading_copies.reading_copy(path, reading_copies.load_book(ROOT))
    blocks = [b for c in nb["cells"] if c["cell_type"] == "markdown"
              for b in reading_copies.code_blocks(c["source"])]
    long = [line for block in blocks for line in _long_lines(block)]
    assert not long, f"{path.name}: {len(long)} lines of its code blocks are longer than {MAX_CODE_LINE}: {long[:6]}"
