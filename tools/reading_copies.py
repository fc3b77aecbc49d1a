"""Write reading copies of the chapters for JupyterLab: `_build/lab/chapters/*.ipynb`.

The chapters are written for the HTML book (myst-nb): their prose uses roles that only the book
build resolves, `{glue:text}` (a number computed by a cell), `{numref}`, `{ref}`, `{cite}`,
`{func}`, and `{literalinclude}` shows library code. jupyterlab-myst renders MyST (admonitions,
math, figures) but not these, so a chapter opened as it is shows raw role syntax and loses the
included code. A reading copy is the chapter with every such role replaced by what the HTML book
shows at that place:

- `{glue:text}`key`` (and `key:format`): the stored text of the glued value, formatted as myst-nb
  formats it (the glue outputs are in the notebook: mime type application/papermill.record/...);
- `{numref}`label`` / `{ref}`label``: "Fig. 3.2", "Section 1.4" / the section title or the figure
  caption, numbered as the book numbers them (from _toc.yml; cross-chapter references too);
- `{cite}` / `{cite:p}` / `{cite:t}`: "[Author, Year]" / "Author [Year]" from references.bib;
- `{func}` `{class}` `{meth}` `{mod}` `{attr}` `{data}`: the name in code font;
- a `{literalinclude}` block: a fenced code block with exactly the included lines (read by
  Sphinx's own LiteralIncludeReader, so every option Sphinx knows works as in the book).

A figure cell's caption (its `mystnb.figure` metadata) is added under it as "**Fig. 3.2** caption",
glue-only outputs (invisible in the book) are dropped, and the book's folding tags are mirrored:
`hide-input`/`remove-input` collapse the code, `hide-output`/`remove-output` the output,
`hide-cell`/`remove-cell` both (a collapsed cell still runs). Outputs are kept. A line of MyST
front matter turns off jupyterlab-myst's equation numbers, which the HTML book does not show.

Any other role, or a directive that jupyterlab-myst does not render, is an error: a new one must
be taught to this tool before it can slip into a chapter unresolved.

A copy whose cells a reader edited (and saved from JupyterLab) is kept, not overwritten, with a
notice; delete it, or pass --force, to get a fresh one. Running cells and saving the outputs does
not count as an edit: such a copy is replaced by a fresh one.

    python tools/reading_copies.py [--out _build/lab] [--force] [chapters/NAME.ipynb ...]
"""
from __future__ import annotations

import argparse
import copy
import hashlib
import json
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GLUE_PREFIX = "application/papermill.record/"

#: Directives that stay in the copy because jupyterlab-myst renders them itself.
LAB_DIRECTIVES = {
    "admonition", "note", "tip", "hint", "important", "attention", "caution", "warning", "danger",
    "error", "seealso", "math", "figure", "image", "code", "code-block", "dropdown",
}
#: MyST front matter of a reading copy: no equation numbers, as in the HTML book.
LAB_FRONTMATTER = "---\nnumbering:\n  equation: false\n---\n"
#: The reference roles of Sphinx's Python domain: shown as the name in code font.
PY_ROLES = {"func", "class", "meth", "mod", "attr", "data", "obj", "exc",
            "py:func", "py:class", "py:meth", "py:mod", "py:attr", "py:data", "py:obj", "py:exc"}
#: Sphinx's default numfig_format (Jupyter Book keeps it).
NUMFIG_FORMAT = {"figure": "Fig. %s", "section": "Section %s"}

ROLE_RE = re.compile(
    r"(?P<code>(?<![}`])(?P<t>`+)(?!\s*$).*?(?<!`)(?P=t)(?!`))"   # an inline code span: left alone
    r"|\{(?P<name>[A-Za-z][\w:+.\-]*)\}(?P<rt>`+)(?P<body>.*?)(?<!`)(?P=rt)(?!`)", re.S)
FENCE_RE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,}|:{3,})(?P<info>[^\n]*)$", re.M)
DIRECTIVE_INFO_RE = re.compile(r"^\s*\{(?P<name>[^}\s]+)\}\s*(?P<arg>.*?)\s*$")
HEADING_RE = re.compile(r"^(?P<hashes>#{1,6})\s+(?P<title>.+?)\s*#*\s*$")
TARGET_RE = re.compile(r"^\((?P<label>[^)\s]+)\)=\s*$")


class ReadingCopyError(Exception):
    """A chapter uses something the reading copies cannot show as the HTML book does."""


# ------------------------------------------------------------------------------------------------
# The book: documents in table-of-contents order, their numbers, figures and section labels
# ------------------------------------------------------------------------------------------------
@dataclass
class Target:
    kind: str            # "figure" or "section"
    doc: str             # docname, e.g. "chapters/01_sgd_and_lr"
    number: str | None   # "1.2" (None where the book prints no number)
    title: str           # the section title or the figure caption (plain text)


@dataclass
class Book:
    root: Path
    docs: list = field(default_factory=list)          # docnames in toc order
    chapter_number: dict = field(default_factory=dict)  # docname -> int or None
    targets: dict = field(default_factory=dict)       # label -> Target
    bib: dict = field(default_factory=dict)           # key -> (last names, year)


def _toc_docs(root: Path):
    import yaml
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    out = [(toc["root"], False)]
    for part in toc.get("parts", []):
        numbered = bool(part.get("numbered", False))
        for chapter in part.get("chapters", []):
            out.append((chapter["file"], numbered))
            for section in chapter.get("sections", []):
                raise ReadingCopyError(f"_toc.yml: nested sections ({section['file']}) are not supported")
    return out


def _doc_source(root: Path, doc: str) -> Path:
    for ext in (".ipynb", ".md"):
        if (root / (doc + ext)).exists():
            return root / (doc + ext)
    raise ReadingCopyError(f"_toc.yml names {doc}, which has no .ipynb or .md file")


def _load_cells(path: Path):
    """(cell_type, source, metadata) of every cell; a .md file is one markdown cell."""
    if path.suffix == ".md":
        text = path.read_text(encoding="utf-8")
        if text.startswith("---\n"):  # front matter
            text = text.split("\n---\n", 1)[1] if "\n---\n" in text else text
        return [("markdown", text, {})]
    nb = json.loads(path.read_text(encoding="utf-8"))
    return [(c["cell_type"], "".join(c["source"]), c.get("metadata", {})) for c in nb["cells"]]


def _split_fences(text: str):
    """Yield (is_fenced_block, chunk, info, fence) pieces of markdown, in order."""
    pos = 0
    while True:
        m = FENCE_RE.search(text, pos)
        if m is None:
            yield False, text[pos:], None, None
            return
        fence = m.group("fence")
        close = re.compile(r"^[ \t]*" + re.escape(fence[0]) + "{" + str(len(fence)) + r",}[ \t]*$", re.M)
        end = close.search(text, m.end())
        if end is None:  # an unclosed fence runs to the end, as in CommonMark
            end_start = end_end = len(text)
        else:
            end_start, end_end = end.start(), end.end()
        yield False, text[pos:m.start()], None, None
        yield True, text[m.start():end_end], m.group("info"), fence
        pos = end_end


def _plain(text: str) -> str:
    """A heading or caption as plain text: inline code, emphasis and links unwrapped. Math stays
    ($t$: jupyterlab-myst typesets it; the HTML book's {ref} shows the bare t)."""
    text = re.sub(r"`([^`]*)`", r"\1", text)
    text = re.sub(r"\*\*([^*]+)\*\*|\*([^*]+)\*", lambda m: m.group(1) or m.group(2), text)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    return text.strip()


def _figure_name_and_caption(metadata: dict):
    fig = (metadata.get("mystnb") or {}).get("figure") or (metadata.get("myst") or {}).get("figure")
    if not fig or "name" not in fig:
        return None
    return fig["name"], fig.get("caption", "")


def _load_bib(root: Path) -> dict:
    """key -> (last names, year, rank): rank is the entry's place in the bibliography as
    sphinxcontrib-bibtex sorts it (pybtex's default style, "alpha"), which orders the keys of one
    {cite} role."""
    import pybtex.plugin
    from pybtex.database import parse_file
    entries = parse_file(str(root / "references.bib")).entries
    style = pybtex.plugin.find_plugin("pybtex.style.formatting", "alpha")()
    rank = {entry.key: i for i, entry in enumerate(style.sort(entries.values()))}
    out = {}
    for key, entry in entries.items():
        people = entry.persons.get("author") or entry.persons.get("editor") or []
        lasts = tuple(" ".join(p.last_names).replace("{", "").replace("}", "") for p in people)
        out[key] = (lasts, entry.fields.get("year", "n.d."), rank[key])
    return out


def load_book(root: Path = ROOT) -> Book:
    """Number the book as Jupyter Book 1 does (multitoc numbering, numfig per chapter)."""
    book = Book(root=root)
    chapter = 0
    unnumbered = [0]  # figures of unnumbered documents share one counter
    for doc, numbered in _toc_docs(root):
        book.docs.append(doc)
        number = None
        if numbered:
            chapter += 1
            number = chapter
        book.chapter_number[doc] = number
        figures = [0]

        def next_figure(number=number, figures=figures):
            """The number the HTML book gives the next figure: "3.2", or "4" unnumbered."""
            counter = unnumbered if number is None else figures
            counter[0] += 1
            return str(counter[0]) if number is None else f"{number}.{counter[0]}"

        sections = [0] * 6
        pending = []  # labels waiting for the next heading
        for cell_type, source, metadata in _load_cells(_doc_source(root, doc)):
            if cell_type == "code":
                named = _figure_name_and_caption(metadata)
                if named:
                    fignum = next_figure()
                    book.targets[named[0]] = Target("figure", doc, fignum, _plain(named[1]))
                continue
            if cell_type != "markdown":
                continue
            for fenced, chunk, info, _ in _split_fences(source):
                if fenced:
                    d = DIRECTIVE_INFO_RE.match(info or "")
                    if d and d.group("name") == "figure":
                        name = re.search(r"^\s*:name:\s*(\S+)", chunk, re.M)
                        body = [line for line in chunk.splitlines()[1:-1]
                                if line.strip() and not line.strip().startswith(":")]
                        fignum = next_figure()
                        if name:
                            book.targets[name.group(1)] = Target("figure", doc, fignum, _plain(" ".join(body)))
                    continue
                for line in chunk.splitlines():
                    t = TARGET_RE.match(line.strip())
                    if t:
                        pending.append(t.group("label"))
                        continue
                    h = HEADING_RE.match(line)
                    if h:
                        level = len(h.group("hashes"))
                        title = _plain(h.group("title"))
                        if level == 1:
                            secnum = str(number) if number is not None else None
                        else:
                            sections[level - 1] += 1
                            for deeper in range(level, 6):
                                sections[deeper] = 0
                            parts = [str(s) for s in sections[1:level]]
                            secnum = ".".join([str(number)] + parts) if number is not None else None
                        for label in pending:
                            book.targets[label] = Target("section", doc, secnum, title)
                        pending = []
                    elif line.strip():
                        pending = []  # a label belongs to the heading right below it
    book.bib = _load_bib(root)
    return book


# ------------------------------------------------------------------------------------------------
# Roles and directives
# ------------------------------------------------------------------------------------------------
def _glue_store(cells) -> dict:
    store = {}
    for cell in cells:
        for out in cell.get("outputs", []) if cell["cell_type"] == "code" else []:
            name = (out.get("metadata") or {}).get("scrapbook", {}).get("name")
            if name is not None:
                store[name] = {k[len(GLUE_PREFIX):] if k.startswith(GLUE_PREFIX) else k: v
                               for k, v in out.get("data", {}).items()}
    return store


def _explicit(body: str):
    """`text <label>` -> (text, label); `label` -> (None, label)."""
    m = re.match(r"^(?P<text>.*?)\s*<(?P<label>[^<>]+)>$", body.strip(), re.S)
    if m and m.group("text"):
        return m.group("text"), m.group("label")
    return None, body.strip()


class Resolver:
    """Replaces the roles of one document by what the HTML book shows."""

    def __init__(self, book: Book, doc: str, glue: dict):
        self.book, self.doc, self.glue = book, doc, glue
        self.log = []  # (role, text shown), in document order
        self.assets = []  # files the markdown shows (images), relative to the chapter

    def glue_text(self, body: str) -> str:
        from myst_nb.core.variables import format_plain_text
        key, fmt = body.rsplit(":", 1) if ":" in body else (body, "s")  # as myst-nb splits it
        if "::" in key:
            raise ReadingCopyError(f"{self.doc}: glue from another document ({body}) is not supported")
        if key not in self.glue:
            raise ReadingCopyError(f"{self.doc}: no glued value {key!r} in the notebook's outputs")
        data = self.glue[key]
        if "text/plain" not in data:
            raise ReadingCopyError(f"{self.doc}: glued value {key!r} has no text/plain")
        return format_plain_text(data["text/plain"], fmt)

    def _target(self, label: str) -> Target:
        if label not in self.book.targets:
            raise ReadingCopyError(f"{self.doc}: unknown label {label!r}")
        return self.book.targets[label]

    def numref(self, body: str) -> str:
        text, label = _explicit(body)
        target = self._target(label)
        if target.number is None:
            raise ReadingCopyError(f"{self.doc}: {{numref}} to {label!r}, which has no number")
        if text is not None:
            return text.replace("%s", target.number).replace("{number}", target.number)
        return NUMFIG_FORMAT[target.kind] % target.number

    def ref(self, body: str) -> str:
        text, label = _explicit(body)
        if text is not None:
            return text
        return self._target(label).title

    def _cite_keys(self, body: str):
        keys = [k.strip() for k in body.split(",") if k.strip()]
        for k in keys:
            if k not in self.book.bib:
                raise ReadingCopyError(f"{self.doc}: unknown citation {k!r} (not in references.bib)")
        # sphinxcontrib-bibtex lists the keys of one role in the bibliography's order
        return sorted(keys, key=lambda k: self.book.bib[k][2])

    def _authors(self, key: str) -> str:
        lasts = self.book.bib[key][0]
        if len(lasts) == 1:
            return lasts[0]
        if len(lasts) == 2:
            return f"{lasts[0]} and {lasts[1]}"
        return f"{lasts[0]} et al."

    def cite_p(self, body: str) -> str:
        keys = self._cite_keys(body)
        return "[" + ", ".join(f"{self._authors(k)}, {self.book.bib[k][1]}" for k in keys) + "]"

    def cite_t(self, body: str) -> str:
        keys = self._cite_keys(body)
        return ", ".join(f"{self._authors(k)} [{self.book.bib[k][1]}]" for k in keys)

    def python_ref(self, body: str, role: str) -> str:
        text, target = _explicit(body)
        if text is None:
            target = target.lstrip("!")
            text = target.split(".")[-1] if target.startswith("~") else target
            text = text.lstrip("~")
            if role.split(":")[-1] in ("func", "meth"):
                text += "()"
        return f"`{text}`"

    def role(self, name: str, body: str) -> str:
        text = self._role(name, body)
        self.log.append((name, text))
        return text

    def _role(self, name: str, body: str) -> str:
        if name == "glue:text":
            return self.glue_text(body)
        if name == "numref":
            return self.numref(body)
        if name == "ref":
            return self.ref(body)
        if name in ("cite", "cite:p"):
            return self.cite_p(body)
        if name == "cite:t":
            return self.cite_t(body)
        if name in PY_ROLES:
            return self.python_ref(body, name)
        raise ReadingCopyError(f"{self.doc}: the role {{{name}}} is unknown to tools/reading_copies.py; "
                               "teach it how the HTML book shows it")

    def inline(self, text: str) -> str:
        """Replace every role of a piece of markdown outside fenced blocks and code spans."""
        def sub(m):
            if m.group("code"):
                return m.group("code")
            return self.role(m.group("name"), m.group("body"))
        text = ROLE_RE.sub(sub, text)
        for m in re.finditer(r"!\[[^\]]*\]\((?P<src>[^)\s]+)", text):
            self.asset(m.group("src"))
        return text

    def asset(self, src: str) -> None:
        if "://" not in src and not src.startswith(("data:", "#")):
            self.assets.append(src)


def literalinclude(arg: str, chunk: str, base: Path, doc: str) -> str:
    """The fenced code block a `{literalinclude}` shows, read by Sphinx's own reader."""
    from sphinx.directives.code import LiteralIncludeReader
    options = {}
    lines = chunk.splitlines()[1:]
    if lines and re.fullmatch(r"\s*(`{3,}|~{3,}|:{3,})\s*", lines[-1]):
        lines = lines[:-1]  # the closing fence (an unclosed one runs to the end, as in CommonMark)
    for line in lines:
        m = re.match(r"^\s*:(?P<opt>[\w\-]+):\s*(?P<val>.*?)\s*$", line)
        if m:
            options[m.group("opt")] = m.group("val")
        elif line.strip():
            raise ReadingCopyError(f"{doc}: literalinclude {arg}: unexpected line {line!r}")
    known = {"pyobject", "start-at", "start-after", "end-at", "end-before", "lines", "dedent",
             "language", "caption", "name", "linenos", "emphasize-lines", "lineno-start",
             "lineno-match", "encoding", "tab-width", "prepend", "append", "class", "force"}
    unknown = set(options) - known
    if unknown:
        raise ReadingCopyError(f"{doc}: literalinclude option(s) {sorted(unknown)} are not supported")
    if "dedent" in options:
        options["dedent"] = int(options["dedent"]) if options["dedent"] else None
    for opt in ("lineno-start", "tab-width"):
        if opt in options:
            options[opt] = int(options[opt])

    class _Config:
        source_encoding = "utf-8-sig"

    path = (base / arg).resolve()
    if not path.is_file():
        raise ReadingCopyError(f"{doc}: literalinclude of a missing file {arg}")
    try:
        text, _ = LiteralIncludeReader(str(path), options, _Config()).read()
    except (ValueError, OSError) as exc:  # e.g. a start-at pattern no longer in the file
        raise ReadingCopyError(f"{doc}: literalinclude {arg}: {exc}") from exc
    language = options.get("language") or ("python" if path.suffix == ".py" else "")
    fence = "````" if "```" in text else "```"
    caption = f"*{options['caption']}*\n\n" if options.get("caption") else ""
    return f"{caption}{fence}{language}\n{text.rstrip(chr(10))}\n{fence}"


def code_blocks(markdown: str) -> list:
    """The text of every code block of a piece of markdown, in order, those inside directives
    (an admonition) included; an unclosed fence runs to the end, as in CommonMark."""
    out = []
    for fenced, chunk, info, fence in _split_fences(markdown):
        if not fenced:
            continue
        lines = chunk.splitlines()[1:]
        if lines and re.fullmatch(r"\s*" + re.escape(fence[0]) + r"{3,}\s*", lines[-1]):
            lines = lines[:-1]
        if DIRECTIVE_INFO_RE.match(info or ""):
            out += code_blocks("\n".join(lines))
        else:
            out.append("\n".join(lines))
    return out


def convert_markdown(source: str, resolver: Resolver, base: Path) -> str:
    out = []
    for fenced, chunk, info, fence in _split_fences(source):
        if not fenced:
            out.append(resolver.inline(chunk))
            continue
        d = DIRECTIVE_INFO_RE.match(info or "")
        if d is None:  # a plain code block: left as it is
            out.append(chunk)
            continue
        name, arg = d.group("name"), d.group("arg")
        if name == "literalinclude":
            out.append(literalinclude(arg, chunk, base, resolver.doc))
        elif name in LAB_DIRECTIVES or name.startswith("admonition"):
            if name in ("figure", "image") and arg:
                resolver.asset(arg)
            # rendered by jupyterlab-myst: its title and body may hold roles too
            head, _, rest = chunk.partition("\n")
            body, _, closing = rest.rpartition("\n")
            if not re.fullmatch(r"\s*" + re.escape(fence[0]) + r"{3,}\s*", closing):
                body, closing = rest, fence  # unclosed: it ran to the end
            body = convert_markdown(body, resolver, base)
            # a fence inside (an included code block) must be shorter than the directive's own
            inner = max((len(m.group(1)) for m in re.finditer(r"^\s*(" + re.escape(fence[0])
                                                               + r"{3,})", body, re.M)), default=0)
            if inner >= len(fence):
                longer = fence[0] * (inner + 1)
                head = head.replace(fence, longer, 1)
                closing = closing.replace(fence, longer, 1)
            if fence[0] == "`" and "`" in info:
                # CommonMark forbids backticks in a backtick fence's info string (a title with
                # code): jupyterlab-myst would show the line as text. A colon fence allows them.
                colons = ":" * max(3, inner + 1)
                head = head.replace(fence if inner < len(fence) else longer, colons, 1)
                closing = colons
            out.append(resolver.inline(head) + "\n" + body + "\n" + closing)
        else:
            raise ReadingCopyError(f"{resolver.doc}: the directive {{{name}}} is unknown to "
                                   "tools/reading_copies.py (jupyterlab-myst would not render it)")
    return "".join(out)


# ------------------------------------------------------------------------------------------------
# Notebooks
# ------------------------------------------------------------------------------------------------
def _is_glue_only(out: dict) -> bool:
    data = out.get("data", {})
    return bool(data) and all(k.startswith(GLUE_PREFIX) for k in data)


def _fold(cell: dict) -> None:
    tags = set(cell.get("metadata", {}).get("tags", []))
    jupyter = cell["metadata"].setdefault("jupyter", {})
    if tags & {"hide-input", "remove-input", "hide-cell", "remove-cell"}:
        jupyter["source_hidden"] = True
    if tags & {"hide-output", "remove-output", "hide-cell", "remove-cell"}:
        jupyter["outputs_hidden"] = True
    if not jupyter:
        del cell["metadata"]["jupyter"]


def reading_copy(path: Path, book: Book, log: list | None = None) -> dict:
    """The reading copy of one chapter notebook, as a notebook dict.

    `log`, if given, receives (role, text shown) for every role replaced, in document order.
    """
    path = Path(path).resolve()
    nb = json.loads(path.read_text(encoding="utf-8"))
    doc = path.relative_to(book.root).with_suffix("").as_posix()
    if doc not in book.chapter_number:
        raise ReadingCopyError(f"{doc} is not in _toc.yml")
    resolver = Resolver(book, doc, _glue_store(nb["cells"]))
    cells = []
    for cell in nb["cells"]:
        cell = copy.deepcopy(cell)
        source = "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            cell["source"] = convert_markdown(source, resolver, path.parent)
            cells.append(cell)
            continue
        if cell["cell_type"] != "code":
            cells.append(cell)
            continue
        cell["outputs"] = [o for o in cell.get("outputs", []) if not _is_glue_only(o)]
        _fold(cell)
        cells.append(cell)
        named = _figure_name_and_caption(cell.get("metadata", {}))
        if named:
            target = book.targets[named[0]]
            caption = convert_markdown(named[1], resolver, path.parent)
            cells.append({"cell_type": "markdown", "metadata": {},
                          "source": f"**{NUMFIG_FORMAT['figure'] % target.number}** {caption}"})
    for i, cell in enumerate(cells):  # stable ids, valid nbformat 4.5
        cell["id"] = cell.get("id") or f"rc-{i}"
        if isinstance(cell["source"], list):
            cell["source"] = "".join(cell["source"])
    if log is not None:
        log.extend(resolver.log)
    first = next((c for c in cells if c["cell_type"] == "markdown"), None)
    if first is not None and not "".join(first["source"]).startswith("---"):
        # jupyterlab-myst numbers display equations, the HTML book does not: the page's front
        # matter (read from the first cell, not shown) turns that off
        first["source"] = LAB_FRONTMATTER + "".join(first["source"])
    nb["cells"] = cells
    nb["nbformat"], nb["nbformat_minor"] = 4, max(nb.get("nbformat_minor", 4), 5)
    nb["metadata"]["reading_copy"] = {
        "assets": sorted(set(resolver.assets)),
        "source": doc + ".ipynb",
        "note": "Generated by tools/reading_copies.py (make lab) from the chapter; edit the chapter."}
    return nb


def _dump(nb: dict) -> str:
    return json.dumps(nb, indent=1, ensure_ascii=False, sort_keys=True) + "\n"


def _sources_hash(nb: dict) -> str:
    """What a reader edits: the cells' types and sources (not outputs, ids or metadata)."""
    cells = [(c["cell_type"], "".join(c["source"])) for c in nb["cells"]]
    return hashlib.sha256(json.dumps(cells).encode("utf-8")).hexdigest()


def _copy_assets(nb: dict, src: Path, out: Path) -> None:
    for rel in nb["metadata"]["reading_copy"]["assets"]:
        origin = (src.parent / rel).resolve()
        dest = (out / "chapters" / rel).resolve()
        if not origin.is_file():
            raise ReadingCopyError(f"{src.name} shows a missing file {rel}")
        if out.resolve() not in dest.parents:
            raise ReadingCopyError(f"{src.name} shows {rel}, outside the reading copies' folder")
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(origin, dest)


def write_copies(paths, out: Path, *, book: Book | None = None, force: bool = False, log=print):
    """Write the reading copies of `paths` under `out`/chapters; returns the paths written."""
    book = book or load_book()
    out = Path(out)
    (out / "chapters").mkdir(parents=True, exist_ok=True)
    manifest_path = out / ".reading-copies.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    written = []
    for src in map(Path, paths):
        nb = reading_copy(src, book)
        dest = out / "chapters" / src.name
        if dest.exists() and not force and src.name in manifest:
            try:
                current = _sources_hash(json.loads(dest.read_text(encoding="utf-8")))
            except (ValueError, KeyError):
                current = None  # not a notebook any more: the reader's business
            if current != manifest[src.name]:
                newer = src.stat().st_mtime > dest.stat().st_mtime
                log(f"kept {dest}: its cells were edited since it was written"
                    + (" (and the chapter has changed since)" if newer else "")
                    + "; delete it, or pass --force, for a fresh copy")
                continue
        _copy_assets(nb, src, out)
        dest.write_text(_dump(nb), encoding="utf-8")
        manifest[src.name] = _sources_hash(nb)
        written.append(dest)
    manifest_path.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return written


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="chapter notebooks (default: every notebook in _toc.yml)")
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "lab")
    parser.add_argument("--force", action="store_true", help="overwrite copies changed since written")
    args = parser.parse_args(argv)
    book = load_book()
    paths = args.notebooks or [_doc_source(ROOT, d) for d in book.docs
                               if _doc_source(ROOT, d).suffix == ".ipynb"]
    try:
        written = write_copies(paths, args.out, book=book, force=args.force)
    except ReadingCopyError as exc:
        sys.exit(f"reading_copies.py: {exc}")
    print(f"{len(written)} reading copies in {args.out / 'chapters'}")


if __name__ == "__main__":
    main()
