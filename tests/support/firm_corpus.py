"""The fictional firm's documents for tests and the benchmark: Pathways Financial Planning.

Markdown, text and HTML files are committed in tests/fixtures/firm_docs; the PDF and the DOCX are
made here (a PDF writer of a few lines, python-docx), together with the broken files.
"""

from __future__ import annotations

import io
import shutil
import textwrap
from pathlib import Path

from docx import Document
from pypdf import PdfReader, PdfWriter

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "firm_docs"

NOT_SOLD_PAGES = [
    ["Products we do not recommend",
     "",
     "Pathways Financial Planning is fee-only, and some products are ones we will not recommend to any client.",
     "",
     "We never recommend whole life or universal life insurance as an investment. Cash value policies",
     "carry high commissions and surrender charges; term life insurance covers the need for a fraction of the cost.",
     "",
     "We do not recommend equity-indexed or variable annuities with surrender charges, non-traded REITs,",
     "private placements, leveraged ETFs, crypto assets, or individual stock picks.",
     "",
     "Guaranteed returns are a red flag. Any offer that promises a guaranteed return well above Treasury",
     "yields, such as a guaranteed 12% or 14% a year from a friend or a seminar, is treated as possible fraud.",
     "We help the client look the seller up on FINRA BrokerCheck and the SEC adviser search, and we report",
     "it to the state securities regulator. We never tell a client they were foolish to consider it."],
    ["When markets fall",
     "",
     "We never time the market and never move a client to cash after a drop. Portfolios are rebalanced when",
     "an asset class drifts more than 5 percentage points from its target, which means buying stocks after",
     "they fall. Retirees hold two years of withdrawals in cash so a market drop never forces a sale.",
     "A 20% decline has happened about once every six years; we show clients the recovery history instead",
     "of a forecast, and we never promise that a portfolio will not lose money."],
]

PROCESS_DOCX = [
    ("Title", "How working with us goes"),
    ("Heading 1", "Step 1: a free discovery call"),
    ("Normal", "Every client relationship starts with a free 30-minute discovery call with Elena. We listen "
               "first, and we tell you honestly if another kind of professional would serve you better."),
    ("Heading 1", "Step 2: gathering documents"),
    ("Normal", "You upload documents through our secure client portal, never by email:"),
    ("List Bullet", "your last two pay stubs and last year's tax return"),
    ("List Bullet", "statements of every bank, retirement, investment and loan account"),
    ("List Bullet", "insurance policies and any employer benefits guide"),
    ("Heading 1", "Step 3: the plan meeting"),
    ("Normal", "Within three weeks of receiving your documents we meet for 90 minutes to go through your "
               "written plan, with no more than three priorities for the next year."),
    ("Heading 1", "Step 4: the 90-day check-in"),
    ("Normal", "Ninety days after the plan meeting we check in on the first steps; after that, ongoing clients "
               "have a review meeting each spring and each fall."),
]


def make_pdf(pages: list[list[str]], title: str | None = None) -> bytes:
    """A small valid PDF with one line of Helvetica text per string."""
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    page_ids = []
    pages_id = len(objects) + 2 * len(pages) + 1
    for lines in pages:
        text = ["BT /F1 10 Tf 50 780 Td 14 TL"]
        for line in lines:
            escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
            text.append(f"({escaped}) '")
        text.append("ET")
        stream = "\n".join(text).encode("latin-1")
        content = add(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        page_ids.append(add(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
                            b"/Resources << /Font << /F1 %d 0 R >> >> >>" % (pages_id, content, font)))
    kids = b" ".join(b"%d 0 R" % i for i in page_ids)
    assert add(b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, len(page_ids))) == pages_id
    info = add(b"<< /Title (%s) >>" % title.encode("latin-1")) if title else None
    catalog = add(b"<< /Type /Catalog /Pages %d 0 R >>" % pages_id)
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.writelines(b"%010d 00000 n \n" % offset for offset in offsets)
    trailer = b"<< /Size %d /Root %d 0 R" % (len(objects) + 1, catalog)
    trailer += b" /Info %d 0 R >>" % info if info else b" >>"
    out.write(b"trailer\n" + trailer + b"\nstartxref\n%d\n%%%%EOF\n" % xref)
    return out.getvalue()


def make_docx(paragraphs: list[tuple[str, str]]) -> bytes:
    document = Document()
    for style, text in paragraphs:
        document.add_paragraph(text, style=style)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def encrypted_pdf() -> bytes:
    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(make_pdf([["A private statement"]]))))
    writer.encrypt(user_password="secret", owner_password="owner")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def scanned_pdf() -> bytes:
    """A PDF whose page has no text layer, like a scan."""
    writer = PdfWriter()
    writer.add_blank_page(width=612, height=792)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def write_corpus(target: Path) -> Path:
    """The firm's good documents in `target`: the committed files plus the PDF and the DOCX."""
    target.mkdir(parents=True, exist_ok=True)
    for path in FIXTURES.iterdir():
        shutil.copy(path, target / path.name)
    (target / "what-we-do-not-recommend.pdf").write_bytes(make_pdf(NOT_SOLD_PAGES, "Products we do not recommend"))
    (target / "client-process.docx").write_bytes(make_docx(PROCESS_DOCX))
    return target


def write_broken(target: Path) -> dict[str, str]:
    """Broken files in `target`; {file name: words its error must contain}."""
    target.mkdir(parents=True, exist_ok=True)
    (target / "statement.pdf").write_text("this is a text file with a .pdf name\n")
    (target / "locked.pdf").write_bytes(encrypted_pdf())
    (target / "scan.pdf").write_bytes(scanned_pdf())
    (target / "notes.xyz").write_text("what type is this?\n")
    (target / "broken.docx").write_bytes(b"PK\x03\x04 not really a zip")
    (target / "latin1.txt").write_bytes("Caf\xe9 cr\xe8me".encode("latin-1"))
    return {"statement.pdf": "not a PDF", "locked.pdf": "encrypted", "scan.pdf": "no extractable text",
            "notes.xyz": "unknown type", "broken.docx": "not a Word document", "latin1.txt": "not UTF-8"}


def wrap(text: str, width: int = 95) -> list[str]:
    return textwrap.wrap(text, width)
