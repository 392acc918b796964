"""What every export format builds on: the conversation the store hands over, the context an
export shares, the format's description, and the one JSON encoding.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable, Literal, Mapping

from brightrun_gen.domain.exportformats.system_prompt import advisor_system_prompt
from brightrun_gen.domain.models import Advisor, Catalog, Dimensions
from brightrun_gen.domain.stored import ReviewEvent, StoredTurn
from brightrun_gen.domain.pricing import Usage
from brightrun_gen.errors import BrightRunError

# What a conversation carries beyond its row and turns; a format reads only the parts it writes.
PARTS = frozenset(("metadata", "quality", "usage", "reviews", "sources", "judgement", "annotations"))


class InvalidExportRecord(BrightRunError):
    """A conversation that would make an invalid file; the message names it and the reason."""

    @classmethod
    def about(cls, format_name: str, conv: ExportConversation, problem: str) -> InvalidExportRecord:
        return cls(f"{format_name} export: conversation {conv.key!r} (id {conv.id}): {problem}; no file was written")


# --- what the store hands over ---------------------------------------------------------------


@dataclass(frozen=True)
class Generation:
    """How the current version was written."""

    version: int
    model: str | None = None
    template_name: str | None = None
    template_hash: str | None = None
    log_id: int | None = None


@dataclass(frozen=True)
class ExportConversation:
    """One stored conversation at its current version, with everything any format needs."""

    id: int
    key: str
    source: str
    status: str
    dimensions: Dimensions
    turns: tuple[StoredTurn, ...]
    metadata: dict
    quality: dict | None
    quality_score: float | None
    reviewer_notes: str | None
    generation: Generation
    usage: Usage = Usage()
    review_events: tuple[ReviewEvent, ...] = ()
    sources: tuple[dict, ...] = ()  # the firm's chunks that grounded the current version
    judgement: dict | None = None  # the judge's view of the current version: criteria, per-turn scores, verdict


@dataclass(frozen=True)
class ExportContext:
    """What every record of one export shares."""

    advisor: Advisor | None
    include_system: bool = True
    catalog: Catalog | None = None  # for formats that describe the scaffolding (ExportFormat.needs_catalog)
    persona_labels: Mapping[str, str] = field(default_factory=dict)
    dataset_name: str = "brightrun_export"
    description: str = ""
    created_on: str = ""

    @cached_property
    def system_prompt(self) -> str | None:
        if not self.include_system or self.advisor is None:
            return None
        return advisor_system_prompt(self.advisor)


@dataclass(frozen=True)
class FileTotals:
    conversations: int
    turns: int


# --- a format --------------------------------------------------------------------------------

Records = Callable[[ExportConversation, ExportContext], list[dict]]
Check = Callable[[dict], "str | None"]
CheckAll = Callable[[list[dict]], "str | None"]
LeaveOut = Callable[[ExportConversation, ExportContext], "str | None"]
Head = Callable[[ExportContext, FileTotals], dict]
Encode = Callable[[list[dict]], list[bytes]]


# json.dumps with options builds a new encoder per call; millions of small values make that count.
_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False)


def json_text(value: Any) -> str:
    """The one JSON encoding of every export: UTF-8 text as it is, NaN and Infinity refused."""
    return _ENCODER.encode(value)


def encode_records(records: list[dict]) -> list[bytes]:
    """UTF-8 JSON of each record (raises ValueError on NaN or Infinity)."""
    return [json_text(record).encode() for record in records]


@dataclass(frozen=True)
class ExportFormat:
    """A format: how to build and check its records and how its file is laid out."""

    name: str
    suffix: str
    layout: Literal["jsonl", "json", "csv", "json-summary", "jsonl-summary", "zip"]
    records: Records
    check: Check
    description: str
    head: Head | None = None  # json layout: the document's keys before its list
    list_key: str = ""  # json layout: the key of the list the records go in
    columns: tuple[str, ...] = ()  # csv layout
    carries_turns: bool = True  # False: the turns are not in the file, so their order does not matter
    reads: frozenset[str] = frozenset()  # of PARTS: what to load beyond the row and the turns
    encode: Encode = encode_records  # jsonl and json layouts: the records of one conversation to bytes
    # All the records of one conversation at once (checks that share work across them); else `check` each.
    check_all: CheckAll | None = None
    # Why a conversation cannot be written in this format (it is left out and counted), or None.
    leave_out: LeaveOut | None = None
    needs_catalog: bool = False
    # "json-summary" and "jsonl-summary" layouts: a head counted from the records written, put
    # first in the file: `summary()` gives an accumulator with add(conv, records), and
    # `summary_head(accumulator, ctx)` the head.
    summary: Callable[[], Any] | None = None
    summary_head: Callable[[Any, ExportContext], dict] | None = None
    entry_name: Callable[[dict], str] | None = None  # "zip" layout: one file per record, by this name
    system_prompt: bool = False  # the records can start with the advisor's system prompt (ExportContext.include_system)
