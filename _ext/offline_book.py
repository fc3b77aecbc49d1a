"""Keep the rendered book offline and its console clean.

Jupyter Book 1 always loads sphinx-thebe (live code cells from a remote kernel), which this book
does not use: its script points at a CDN and is injected twice (a console error). Drop it.
"""


def _is_thebe(asset) -> bool:
    filename = getattr(asset, "filename", asset) or ""
    body = (getattr(asset, "attributes", {}) or {}).get("body", "") or ""
    return "thebe" in str(filename) or "THEBE" in body


def _strip_thebe(app, pagename, templatename, context, doctree):
    for key in ("script_files", "css_files"):
        if key in context:
            context[key] = [a for a in context[key] if not _is_thebe(a)]


def setup(app):
    app.connect("html-page-context", _strip_thebe, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
