"""Letters as PDF documents (WeasyPrint): each letter starts on a new page, A4, on the authority's letterhead
(each letter's own template draws it from the authority's settings)."""
from pathlib import Path

from flask import current_app
from markupsafe import Markup, escape

CSS_FILE = "letters-pdf.css"


def _css() -> str:
    return (Path(current_app.static_folder) / CSS_FILE).read_text(encoding="utf-8")


def html_document(bodies: list[str], title: str = "Letters") -> str:
    """One HTML document holding every letter, ready for WeasyPrint."""
    pages = "\n".join(f'<section class="pdf-letter">{Markup(body)}</section>' for body in bodies)
    return (f'<!doctype html><html lang="en-GB"><head><meta charset="utf-8"><title>{escape(title)}</title>'
            f"<style>{_css()}</style></head><body>{pages}</body></html>")


def render_pdf(bodies: list[str], title: str = "Letters") -> bytes:
    """The PDF of these letters, one after another, each from a new page."""
    from weasyprint import HTML  # imported here: loading Pango takes a moment and most requests never need it

    return HTML(string=html_document(bodies, title), base_url=current_app.static_folder).write_pdf()
