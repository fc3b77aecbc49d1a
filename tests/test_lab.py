"""The JupyterLab reading copies (tools/reading_copies.py) and JupyterLab itself reading them.

The unit tests build a small book in a temporary folder and check every replacement exactly, then
convert the real chapters and, when the HTML book is built, compare every replaced role with what
the HTML shows at the same place. The browser test (marker `browser`, run by `make test-browser`)
starts JupyterLab with jupyterlab-myst on the copies and opens each one in Chromium. Set
LAB_SCREENSHOTS=DIR to keep a full-length screenshot of each.
"""
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from conftest import missing_prerequisite  # the `browser` fixture is there too

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import reading_copies as rc  # noqa: E402

RAW = ("{glue", "{numref", "{ref", "{cite", "{literalinclude", "{func")

MODULE = '''\
def helper(x):
    """Docstring."""
    a = x + 1        # first
    b = a * 2        # second
    return b


class Thing:
    def method(self):
        return 42
'''

BIB = """@article{smith2017,
  title = {One}, author = {Smith, Leslie N.}, year = {2017}, journal = {J}}
@article{duo2019,
  title = {Two}, author = {Smith, Leslie N. and Topin, Nicholay}, year = {2019}, journal = {J}}
@book{many2016,
  title = {Three}, author = {Goodfellow, Ian and Bengio, Yoshua and Courville, Aaron}, year = {2016}}
"""


def _glue_output(name, text):
    return nbformat.v4.new_output("display_data", data={rc.GLUE_PREFIX + "text/plain": repr(text)},
                                  metadata={"scrapbook": {"name": name, "mime_prefix": rc.GLUE_PREFIX}})


def _figure_cell(name, caption, count):
    cell = nbformat.v4.new_code_cell("plot()", execution_count=count, outputs=[
        nbformat.v4.new_output("display_data", data={"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"})])
    cell.metadata["mystnb"] = {"figure": {"name": name, "caption": caption}}
    cell.metadata["tags"] = ["hide-input"]
    return cell


def _notebook(cells):
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


@pytest.fixture()
def small_book(tmp_path):
    """Two numbered chapters and an unnumbered appendix, as Jupyter Book numbers them."""
    (tmp_path / "_toc.yml").write_text(
        "format: jb-book\nroot: intro\nparts:\n"
        "  - caption: A\n    numbered: true\n    chapters:\n      - file: chapters/one\n"
        "  - caption: B\n    numbered: true\n    chapters:\n      - file: chapters/two\n"
        "  - caption: C\n    chapters:\n      - file: chapters/appendix\n")
    (tmp_path / "intro.md").write_text("# Intro\n")
    (tmp_path / "references.bib").write_text(BIB)
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "mod.py").write_text(MODULE)
    chapters = tmp_path / "chapters"
    chapters.mkdir()
    glue_cell = nbformat.v4.new_code_cell("glue(...)", execution_count=1, outputs=[
        _glue_output("loss", "0.1234"), _glue_output("n", "1437"), _glue_output("word", "high")])
    glue_cell.metadata["tags"] = ["remove-input"]
    one = _notebook([
        nbformat.v4.new_markdown_cell(
            "# One\n\n:::{admonition} What you will learn\n- the loss {glue:text}`loss`\n:::\n\n"
            "Loss {glue:text}`loss`, {glue:text}`loss:.2f`, {glue:text}`n:,d` examples, a "
            "{glue:text}`word` rate; see {numref}`fig-b`, {numref}`fig-other`, "
            "{numref}`Figure %s <fig-a>` and {ref}`sec-two`, {ref}`the second <sec-two>`, "
            "{numref}`sec-sub`; {cite}`smith2017`, {cite}`many2016,duo2019,smith2017`, "
            "{cite:t}`duo2019`; {func}`~lib.mod.helper`, {class}`lib.mod.Thing`. "
            "Not a role: ``{glue:text}`loss` `` and `` {numref}`x` ``.\n\n"
            "```python\nprint('{cite}`smith2017`')\n```\n\n"
            "```{literalinclude} ../lib/mod.py\n:pyobject: helper\n:start-at: a = x\n"
            ":end-before: return b\n:dedent:\n```\n"),
        glue_cell,
        _figure_cell("fig-a", "First, loss {glue:text}`loss`.", 2),
        _figure_cell("fig-b", "Second.", 3),
        nbformat.v4.new_markdown_cell("(sec-two)=\n## The *second* part\n\n(sec-sub)=\n### A sub\n"),
        nbformat.v4.new_markdown_cell(
            "```{literalinclude} ../lib/mod.py\n:pyobject: Thing.method\n```\n\n"
            "```{literalinclude} ../lib/mod.py\n:lines: 1-2\n```\n"),
        nbformat.v4.new_markdown_cell(  # fences nested without lengthening, as MyST allows
            "```{admonition} The `helper`\n:class: dropdown\n\n"
            "```{literalinclude} ../lib/mod.py\n:pyobject: helper\n:end-at: a = x\n```\n```"),
    ])
    two = _notebook([nbformat.v4.new_markdown_cell("# Two\n\n## First\n\n## Second\n"),
                     _figure_cell("fig-other", "Other.", 1)])
    appendix = _notebook([nbformat.v4.new_markdown_cell("# Appendix\n"), _figure_cell("fig-app", "A.", 1)])
    for name, nb in (("one", one), ("two", two), ("appendix", appendix)):
        nbformat.write(nb, chapters / f"{name}.ipynb")
    return tmp_path


def _md(nb):
    return [c["source"] for c in nb["cells"] if c["cell_type"] == "markdown"]


def test_numbers_labels_and_bibliography_as_the_book_numbers_them(small_book):
    book = rc.load_book(small_book)
    assert book.docs == ["intro", "chapters/one", "chapters/two", "chapters/appendix"]
    assert book.chapter_number == {"intro": None, "chapters/one": 1, "chapters/two": 2, "chapters/appendix": None}
    t = book.targets
    assert (t["fig-a"].number, t["fig-b"].number, t["fig-other"].number, t["fig-app"].number) == ("1.1", "1.2", "2.1", "1")
    assert (t["sec-two"].number, t["sec-two"].title) == ("1.1", "The second part")
    assert t["sec-sub"].number == "1.1.1"
    assert book.bib["duo2019"][:2] == (("Smith", "Topin"), "2019")


def test_every_role_is_replaced_by_what_the_html_shows(small_book):
    book = rc.load_book(small_book)
    log = []
    nb = rc.reading_copy(small_book / "chapters" / "one.ipynb", book, log)
    first = _md(nb)[0]
    assert first.startswith(rc.LAB_FRONTMATTER + "# One\n")  # no equation numbers, as in the book
    assert "- the loss 0.1234\n" in first  # inside an admonition, which stays for jupyterlab-myst
    assert ":::{admonition} What you will learn" in first
    assert "Loss 0.1234, 0.12, 1,437 examples, a high rate" in first
    assert "see Fig. 1.2, Fig. 2.1, Figure 1.1 and The second part, the second, Section 1.1.1;" in first
    assert ("[Smith, 2017], [Goodfellow et al., 2016, Smith, 2017, Smith and Topin, 2019], "
            "Smith and Topin [2019]") in first
    assert "`helper()`, `lib.mod.Thing`." in first
    assert "Not a role: ``{glue:text}`loss` `` and `` {numref}`x` ``." in first  # code spans stay
    assert "```python\nprint('{cite}`smith2017`')\n```" in first             # code blocks stay
    assert "```python\na = x + 1        # first\nb = a * 2        # second\n```" in first
    assert "literalinclude" not in "".join(_md(nb))
    assert "```python\n    def method(self):\n        return 42\n```" in _md(nb)[-2]  # no :dedent:
    assert "```python\ndef helper(x):\n    \"\"\"Docstring.\"\"\"\n```" in _md(nb)[-2]
    # a colon fence: a backtick fence can hold neither the backticks of the title nor the
    # included block's fence (MyST's parser allows both, jupyterlab-myst neither)
    assert _md(nb)[-1] == ("::::{admonition} The `helper`\n:class: dropdown\n\n```python\n"
                           "def helper(x):\n    \"\"\"Docstring.\"\"\"\n    a = x + 1        # first\n"
                           "```\n::::\n```")
    assert [name for name, _ in log][:4] == ["glue:text"] * 4 and ("cite:t", "Smith and Topin [2019]") in log


def test_captions_folding_and_glue_outputs(small_book):
    nb = rc.reading_copy(small_book / "chapters" / "one.ipynb", rc.load_book(small_book))
    kinds = [c["cell_type"] for c in nb["cells"]]
    assert kinds == ["markdown", "code", "code", "markdown", "code", "markdown", "markdown", "markdown",
                     "markdown"]
    assert nb["cells"][3]["source"] == "**Fig. 1.1** First, loss 0.1234."
    assert nb["cells"][5]["source"] == "**Fig. 1.2** Second."
    glue_cell, fig_cell = nb["cells"][1], nb["cells"][2]
    assert glue_cell["outputs"] == []                        # glue-only outputs are invisible in the book
    assert glue_cell["metadata"]["jupyter"] == {"source_hidden": True}   # remove-input
    assert fig_cell["metadata"]["jupyter"] == {"source_hidden": True}    # hide-input
    assert fig_cell["outputs"][0]["data"]["image/png"]                    # outputs are kept
    nbformat.validate(nbformat.from_dict(nb))


@pytest.mark.parametrize("markdown, message", [
    ("{term}`loss`", "role {term}"),
    ("{eq}`eq-1`", "role {eq}"),
    ("```{tableofcontents}\n```", "directive {tableofcontents}"),
    ("```{literalinclude} ../lib/mod.py\n:emphasize-line: 1\n```", "not supported"),
    ("```{literalinclude} ../lib/missing.py\n```", "missing file"),
    ("```{literalinclude} ../lib/mod.py\n:start-at: no such line\n```", "start-at pattern not found"),
    ("{numref}`fig-nowhere`", "unknown label"),
    ("{cite}`nobody2020`", "unknown citation"),
    ("{glue:text}`nothing`", "no glued value"),
])
def test_anything_unknown_fails_loudly(small_book, markdown, message):
    path = small_book / "chapters" / "one.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell(markdown))
    nbformat.write(nb, path)
    with pytest.raises(rc.ReadingCopyError, match=re.escape(message)):
        rc.reading_copy(path, rc.load_book(small_book))


def test_a_copy_with_edited_cells_is_kept_and_a_run_one_is_replaced(small_book, tmp_path):
    book, out = rc.load_book(small_book), tmp_path / "lab"
    src = small_book / "chapters" / "one.ipynb"
    notices = []
    assert rc.write_copies([src], out, book=book, log=notices.append) == [out / "chapters" / "one.ipynb"]
    copy = out / "chapters" / "one.ipynb"
    nb = json.loads(copy.read_text())
    nb["cells"][1]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "ran\n"}]
    copy.write_text(json.dumps(nb))                     # executed and saved: replaced
    assert rc.write_copies([src], out, book=book, log=notices.append) == [copy] and not notices
    nb = json.loads(copy.read_text())
    nb["cells"][0]["source"] = "my own notes"
    copy.write_text(json.dumps(nb))                     # edited: kept, with a notice
    assert rc.write_copies([src], out, book=book, log=notices.append) == []
    assert "my own notes" in copy.read_text() and "edited" in notices[0]
    assert rc.write_copies([src], out, book=book, force=True, log=notices.append) == [copy]
    assert "my own notes" not in copy.read_text()


def _chapter_notebooks():
    book = rc.load_book()
    return book, [rc._doc_source(ROOT, d) for d in book.docs if rc._doc_source(ROOT, d).suffix == ".ipynb"]


def test_every_chapter_has_a_reading_copy_without_raw_roles():
    book, paths = _chapter_notebooks()
    assert len(paths) >= 8
    for path in paths:
        nb = rc.reading_copy(path, book)
        text = "\n".join(_md(nb))
        for raw in RAW:
            assert raw not in text, f"{path.name}: {raw} left in the reading copy"
        nbformat.validate(nbformat.from_dict(nb))


def _norm(text):
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')
    return re.sub(r"\s+", " ", text).strip()


def test_copies_show_what_the_html_book_shows():
    """Every replaced role, and every code block of the prose, equals the built HTML book's."""
    html_dir = ROOT / "_build" / "html"
    if not (html_dir / "index.html").exists():
        pytest.skip("the HTML book is not built (make book)")
    bs4 = pytest.importorskip("bs4")
    book, paths = _chapter_notebooks()
    for path in paths:
        doc = path.relative_to(ROOT).with_suffix("").as_posix()
        if not (html_dir / (doc + ".html")).exists() or (html_dir / (doc + ".html")).stat().st_mtime < path.stat().st_mtime:
            pytest.skip(f"the HTML book is older than {path.name} (make book)")
        log = []
        nb = rc.reading_copy(path, book, log)
        soup = bs4.BeautifulSoup((html_dir / (doc + ".html")).read_text(encoding="utf-8"), "html.parser")
        main = soup.find("article") or soup.find("main")  # the page's text, not its navigation
        html = {"glue:text": "span.pasted-text", "numref": "span.std-numref", "ref": "span.std-ref",
                "cite": "span.bibtex-citation"}
        for kind, selector in html.items():
            # a title's math stays math in the copy ($t$, which jupyterlab-myst typesets); the HTML
            # book's {ref} shows its plain text (t)
            mine = [_norm(text.replace("$", "") if kind == "ref" else text)
                    for name, text in log if name.split(":")[0] == kind or name == kind]
            theirs = [_norm(s.get_text()) for s in main.select(selector)]
            assert mine == theirs, f"{path.name}: {kind} differs from the HTML book"
        blocks = [b for s in _md(nb) for b in rc.code_blocks(s)]
        theirs = [pre.get_text() for pre in main.select('div[class^="highlight-"] pre')
                  if not pre.find_parent(class_=re.compile("cell"))]
        assert [_norm(b) for b in blocks] == [_norm(t) for t in theirs], f"{path.name}: code blocks differ"


# ------------------------------------------------------------------------------------------------
# JupyterLab in Chromium
# ------------------------------------------------------------------------------------------------
def _missing(reason):
    missing_prerequisite(reason)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab on the reading copies: localhost, a token, its own config and runtime folders."""
    for module in ("jupyterlab", "jupyterlab_myst"):
        try:
            __import__(module)
        except ImportError:
            _missing(f"{module} is not installed (pip install -e '.[lab]', or make lab)")
    tmp = tmp_path_factory.mktemp("lab")
    out = tmp / "copies"
    book, paths = _chapter_notebooks()
    failed = {}  # a chapter whose copy cannot be written fails its own test, not the others'
    for path in paths:
        try:
            rc.write_copies([path], out, book=book)
        except rc.ReadingCopyError as exc:
            failed[path.name] = str(exc)
    settings = tmp / "settings"
    for plugin, values in {"notebook-extension/tracker": {"windowingMode": "none"},
                           "apputils-extension/notification": {"fetchNews": "false"}}.items():
        f = settings / "@jupyterlab" / (plugin + ".jupyterlab-settings")
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(json.dumps(values))
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(tmp / "config"), JUPYTER_RUNTIME_DIR=str(tmp / "runtime"),
               JUPYTER_DATA_DIR=str(tmp / "data"), JUPYTERLAB_SETTINGS_DIR=str(settings),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp / "workspaces"), JUPYTER_PLATFORM_DIRS="1")
    subprocess.run([sys.executable, "-m", "jupyter", "trust", *map(str, (out / "chapters").glob("*.ipynb"))],
                   env=env, check=True, capture_output=True)
    token, port = "lrcore-test-" + os.urandom(8).hex(), _free_port()
    log = open(tmp / "server.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={out}", "--allow-root",
         "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
         "--LabApp.extension_manager=readonly"], env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    for _ in range(240):
        try:
            urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
            break
        except OSError:
            if server.poll() is not None:
                break
            time.sleep(0.25)
    else:
        server.terminate()
        pytest.fail("JupyterLab did not start: " + (tmp / "server.log").read_text()[-2000:])
    if server.poll() is not None:
        pytest.fail("JupyterLab exited: " + (tmp / "server.log").read_text()[-2000:])
    yield {"base": base, "token": token, "out": out, "book": book, "failed": failed}
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
    log.close()


RENDERED = """() => {
  const md = Array.from(document.querySelectorAll('.jp-Notebook .jp-MarkdownCell'));
  const done = md.filter(c => c.querySelector('.myst'));
  return md.length > 0 && done.length === md.length
    && document.querySelectorAll('.jp-Notebook .jp-CodeCell').length > 0;
}"""


@pytest.mark.browser
@pytest.mark.parametrize("name", [p.name for p in _chapter_notebooks()[1]])
def test_reading_copy_reads_well_in_jupyterlab(lab, browser, name):
    if name in lab["failed"]:
        pytest.fail(f"no reading copy: {lab['failed'][name]}")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    outside, errors = [], []

    def route(r):
        if r.request.url.startswith(("data:", "blob:", lab["base"], lab["base"].replace("http", "ws"))):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{lab['base']}/lab/tree/chapters/{name}?token={lab['token']}&reset")
    page.wait_for_function(RENDERED, timeout=90000)
    cells = page.evaluate("""() => Array.from(document.querySelectorAll('.jp-Notebook .jp-Cell')).map(c => ({
        markdown: c.classList.contains('jp-MarkdownCell'),
        text: c.classList.contains('jp-MarkdownCell') ? c.querySelector('.myst').innerText : '',
        errors: Array.from(c.querySelectorAll(
            '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"], .myst-exercise'))
            .map(e => e.innerText.slice(0, 300))
            .concat(c.innerText.includes('No renderer could be found') ? ['No renderer could be found'] : []),
    }))""")
    copy = json.loads((lab["out"] / "chapters" / name).read_text())
    assert len(cells) == len(copy["cells"]), "JupyterLab shows another number of cells than the copy has"
    text = "\n".join(c["text"] for c in cells if c["markdown"])
    for raw in RAW + ("```{", ":::{"):  # a role, or a directive jupyterlab-myst showed as text
        assert raw not in text, f"{name}: raw {raw} in the rendered markdown"
    # What replaced the roles is visible (plain values only: a value holding markup renders otherwise).
    log = []
    rc.reading_copy(ROOT / "chapters" / name, lab["book"], log)
    flat = _norm(text)
    missing = [shown for _, shown in log if re.fullmatch(r"[\w.,%+\-\u2212\u00d7/()\[\] ]+", shown)
               and _norm(shown) not in flat]
    assert not missing, f"{name}: replaced values not visible in JupyterLab: {missing[:10]}"
    shown_errors = [e for c in cells for e in c["errors"]]
    assert not shown_errors, f"{name}: cells show errors: {shown_errors[:5]}"
    page.wait_for_timeout(500)  # images decode
    broken_math = page.evaluate("document.querySelectorAll('.jp-Notebook .katex-error').length")
    assert broken_math == 0, f"{name}: {broken_math} formulas KaTeX could not typeset"
    images = page.evaluate("""() => Array.from(document.querySelectorAll('.jp-Notebook img'))
        .map(i => i.complete && i.naturalWidth > 0)""")
    pngs = sum("image/png" in o.get("data", {}) for c in copy["cells"] for o in c.get("outputs", [])
               if not c["metadata"].get("jupyter", {}).get("outputs_hidden"))
    assert len(images) >= pngs and all(images), f"{name}: {images.count(False)} images did not load"
    if os.environ.get("LAB_SCREENSHOTS"):
        height = page.evaluate("""() => Math.max(...Array.from(document.querySelectorAll('.jp-Notebook, .jp-WindowedPanel-outer'))
                                   .map(e => e.scrollHeight))""")
        page.set_viewport_size({"width": 1280, "height": min(int(height) + 200, 32000)})
        page.wait_for_timeout(500)
        shot = Path(os.environ["LAB_SCREENSHOTS"]) / (name.replace(".ipynb", ".png"))
        shot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shot))
    page.close()
    assert not outside, f"requests that left the machine: {outside}"
    assert not errors, f"page errors: {errors}"
