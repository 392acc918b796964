"""A firm document as text, and its chunks: split on headings and paragraphs within a token budget.

Conversion from each file type happens in services/converting.py; everything here is pure. The
splitting itself is semantic-text-splitter's MarkdownSplitter: it keeps the largest semantic unit
(section, paragraph, sentence) that fits the budget and overlaps the pieces of a long section.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import PurePath

from semantic_text_splitter import MarkdownSplitter

# File name endings Bright Run reads, and the type each one is.
DOC_TYPES = {
    ".md": "markdown", ".markdown": "markdown", ".txt": "text", ".text": "text",
    ".html": "html", ".htm": "html", ".pdf": "pdf", ".docx": "docx",
}
# Claude's tokenizer is not public: a chunk's tokens are estimated at four characters each, the
# same estimate for the splitter's budget, the stored token_count and the prompt's budget.
CHARS_PER_TOKEN = 4
_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$", re.MULTILINE)
_SPACES = re.compile(r"\s+")


def doc_type_of(name: str) -> str | None:
    """The document type a file name says, or None for a type Bright Run does not read."""
    return DOC_TYPES.get(PurePath(name).suffix.lower())


def estimate_tokens(text: str) -> int:
    return max(1, -(-len(text) // CHARS_PER_TOKEN))


@dataclass(frozen=True)
class DocumentText:
    """A converted document: Markdown-ish text (headings as `#` lines) and where each page starts."""

    title: str
    doc_type: str
    text: str
    page_starts: tuple[int, ...] = ()  # character offset of each page (PDF), empty otherwise


@dataclass(frozen=True)
class ChunkDraft:
    """One chunk before it is stored; the fields are the upstream stage's `chunks` columns."""

    chunk_id: str
    position: int
    section_heading: str | None
    char_start: int
    char_end: int
    token_count: int
    chunk_text: str
    page_start: int | None = None
    page_end: int | None = None
    chunk_type: str = "text"


@dataclass(frozen=True)
class ChunkBudget:
    """Tokens per chunk (the splitter fills a chunk to between half and all of it) and overlap."""

    tokens: int = 300
    overlap: int = 40

    def __post_init__(self):
        if not 0 <= self.overlap < self.tokens:
            raise ValueError("the chunk overlap must be smaller than the chunk size")


@lru_cache(maxsize=4)
def _splitter(budget: ChunkBudget) -> MarkdownSplitter:
    return MarkdownSplitter.from_callback(estimate_tokens, (budget.tokens // 2, budget.tokens),
                                          overlap=budget.overlap)


def split_document(doc: DocumentText, budget: ChunkBudget, id_prefix: str) -> list[ChunkDraft]:
    """The document's chunks in reading order, each with its section heading and page span.

    A piece that is only headings carries no facts and is left out (its heading is the section
    heading of the chunks that follow).
    """
    headings = _Headings(doc.text, doc.title)
    drafts: list[ChunkDraft] = []
    for start, piece in _splitter(budget).chunk_indices(doc.text):
        if headings.only_headings(piece):
            continue
        end = start + len(piece)
        page_start, page_end = _pages(doc.page_starts, start, end)
        drafts.append(ChunkDraft(
            chunk_id=f"{id_prefix}-{len(drafts):04d}", position=len(drafts),
            section_heading=headings.at(start, piece), char_start=start, char_end=end,
            token_count=estimate_tokens(piece), chunk_text=piece, page_start=page_start, page_end=page_end,
        ))
    return drafts


class _Headings:
    """The heading path in effect at any offset of a Markdown text."""

    def __init__(self, text: str, title: str):
        self.offsets: list[int] = []
        self.paths: list[tuple[str, ...]] = []
        path: list[tuple[int, str]] = []
        for match in _HEADING.finditer(text):
            level, name = len(match.group(1)), clean_line(match.group(2))
            path = [(lvl, n) for lvl, n in path if lvl < level] + [(level, name)]
            self.offsets.append(match.start())
            self.paths.append(tuple(n for _, n in path))
        self.title = title

    def at(self, start: int, piece: str) -> str | None:
        """The heading path in effect where the piece starts, then the headings inside it.

        The document's title is left out unless it is the only heading there is.
        """
        first = bisect.bisect_right(self.offsets, start) - 1
        last = bisect.bisect_left(self.offsets, start + len(piece))
        names: list[str] = list(self.paths[first]) if first >= 0 else []
        names += [path[-1] for path in self.paths[max(first + 1, 0):last]]
        kept = [n for n in dict.fromkeys(names) if n != self.title] or names[:1]
        return "; ".join(kept)[:500] or None

    @staticmethod
    def only_headings(piece: str) -> bool:
        return all(_HEADING.match(line) for line in piece.splitlines() if line.strip())


def _pages(page_starts: tuple[int, ...], start: int, end: int) -> tuple[int | None, int | None]:
    if not page_starts:
        return None, None
    first = bisect.bisect_right(page_starts, start)
    last = bisect.bisect_right(page_starts, max(start, end - 1))
    return max(first, 1), max(last, 1)


def clean_line(text: str) -> str:
    """Text on one line with single spaces: how a heading, title or excerpt is shown and stored."""
    return _SPACES.sub(" ", text).strip()


def excerpt(text: str, limit: int = 240) -> str:
    """The start of a chunk on one line, cut at a word, for tables and provenance."""
    flat = clean_line(text.replace("#", " "))
    if len(flat) <= limit:
        return flat
    cut = flat[:limit].rsplit(" ", 1)[0]
    return cut + " …"


@dataclass(frozen=True)
class ImportedChunk:
    """A chunk as the upstream stage (database or CSV) hands it over, dimensions included."""

    chunk_id: str
    chunk_text: str
    section_heading: str | None = None
    chunk_type: str = "text"
    page_start: int | None = None
    page_end: int | None = None
    char_start: int | None = None
    char_end: int | None = None
    token_count: int | None = None
    dimensions: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ImportedDocument:
    """An upstream document with its chunks in order."""

    source_id: str
    title: str
    category: str | None
    chunks: tuple[ImportedChunk, ...]
