"""Files to text: Markdown and plain text as they are, HTML via markdownify, PDF via pypdf, DOCX
via python-docx. Headings become `#` lines so the splitter and the section headings see them.

Every problem is an InputError whose message starts with the file name and says why, in words a
person can act on (not a PDF, encrypted, no extractable text, too large, unknown type).
"""

from __future__ import annotations

import io
import logging
import re
import zipfile
from pathlib import PurePath

from bs4 import BeautifulSoup
from docx import Document as open_docx
from docx.opc.exceptions import PackageNotFoundError
from markdownify import MarkdownConverter
from pypdf import PdfReader
from pypdf.errors import PdfReadError

from brightrun_gen.domain.documents import DOC_TYPES, DocumentText, clean_line, doc_type_of
from brightrun_gen.errors import InputError

logger = logging.getLogger(__name__)

_FIRST_HEADING = re.compile(r"^#[ \t]+(.+)$", re.MULTILINE)
_LEVEL = re.compile(r"(\d+)$")
# Tags whose text is page furniture, not the document's content.
_HTML_FURNITURE = ["script", "style", "noscript", "nav", "header", "footer", "form", "template"]


def convert(name: str, data: bytes, max_bytes: int) -> DocumentText:
    """The text of one file given by name and bytes; raises InputError naming the file and the reason."""
    doc_type = doc_type_of(name)
    if doc_type is None:
        suffix = PurePath(name).suffix or "(none)"
        known = ", ".join(sorted(set(DOC_TYPES)))
        raise InputError(f"{name}: unknown type {suffix}: Bright Run reads {known}")
    if len(data) > max_bytes:
        raise InputError(f"{name}: too large ({len(data) / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB, "
                         "setting BRIGHTRUN_DOCUMENT_MAX_MB)")
    doc = _CONVERTERS[doc_type](name, data)
    if not doc.text.strip():
        raise InputError(f"{name}: no extractable text")
    return doc


def _title_from_name(name: str) -> str:
    stem = PurePath(name).stem.replace("_", " ").replace("-", " ")
    return clean_line(stem).capitalize() or name


def _decoded(name: str, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{name}: not UTF-8 text (byte {exc.start}); save it as UTF-8 and import it again") from None


def _markdown(name: str, data: bytes) -> DocumentText:
    text = _decoded(name, data)
    heading = _FIRST_HEADING.search(text)
    title = clean_line(heading.group(1)) if heading else _title_from_name(name)
    return DocumentText(title=title, doc_type="markdown", text=text)


def _plain(name: str, data: bytes) -> DocumentText:
    return DocumentText(title=_title_from_name(name), doc_type="text", text=_decoded(name, data))


def _html(name: str, data: bytes) -> DocumentText:
    soup = BeautifulSoup(_decoded(name, data), "html.parser")
    title = clean_line(soup.title.get_text()) if soup.title else ""
    for tag in soup(_HTML_FURNITURE):
        tag.decompose()
    body = soup.body or soup
    text = MarkdownConverter(heading_style="ATX", strip=["a", "img"]).convert_soup(body)
    if not title:
        heading = _FIRST_HEADING.search(text)
        title = clean_line(heading.group(1)) if heading else _title_from_name(name)
    return DocumentText(title=title, doc_type="html", text=text)


def _pdf(name: str, data: bytes) -> DocumentText:
    if not data.lstrip()[:5] == b"%PDF-":
        raise InputError(f"{name}: not a PDF (it does not start with %PDF-)")
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise InputError(f"{name}: encrypted PDF: remove the password and import it again")
        pages = [page.extract_text() or "" for page in reader.pages]
        meta_title = (reader.metadata.title if reader.metadata else None) or ""
    except InputError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{name}: damaged PDF ({exc.__class__.__name__}: {str(exc)[:120]})") from None
    if not any(p.strip() for p in pages):
        raise InputError(f"{name}: no extractable text (a scanned PDF? run OCR on it first)")
    starts, parts, offset = [], [], 0
    for text in pages:
        starts.append(offset)
        parts.append(text.strip())
        offset += len(parts[-1]) + 2
    return DocumentText(title=clean_line(meta_title) or _title_from_name(name), doc_type="pdf",
                        text="\n\n".join(parts), page_starts=tuple(starts))


def _docx(name: str, data: bytes) -> DocumentText:
    try:
        document = open_docx(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise InputError(f"{name}: not a Word document (.docx): {exc.__class__.__name__}") from None
    lines, title = [], clean_line(document.core_properties.title or "")
    for paragraph in document.paragraphs:
        text = clean_line(paragraph.text)
        if not text:
            continue
        style = (paragraph.style.name if paragraph.style is not None else "") or ""
        level = _heading_level(style)
        if level:
            title = title or (text if level == 1 else "")
            lines.append(f"{'#' * level} {text}")
        elif "List" in style:
            lines.append(f"- {text}")
        else:
            lines.append(text)
    for table in document.tables:
        lines += [" | ".join(clean_line(cell.text) for cell in row.cells) for row in table.rows]
    return DocumentText(title=title or _title_from_name(name), doc_type="docx", text="\n\n".join(lines))


def _heading_level(style: str) -> int:
    """1-6 for Word's Title and Heading N styles, 0 for body text."""
    if style == "Title":
        return 1
    if style.startswith("Heading"):
        found = _LEVEL.search(style)
        return min(int(found.group(1)), 6) if found else 1
    return 0


_CONVERTERS = {"markdown": _markdown, "text": _plain, "html": _html, "pdf": _pdf, "docx": _docx}
