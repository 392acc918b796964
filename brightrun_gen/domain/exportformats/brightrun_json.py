"""Bright Run JSON: our own full record, re-importable with import-seeds.

The file is our seed format (`seedfiles`): a head with the dataset and the advisor, then every
conversation with its dimensions, turns, annotations and the store's facts about it.
"""

from __future__ import annotations

import json

from pydantic import ValidationError

from brightrun_gen.domain.exportformats.base import (
    PARTS, ExportContext, ExportConversation, ExportFormat, FileTotals, json_text,
)
from brightrun_gen.domain.exportformats.checks import order_problem, text_problem
from brightrun_gen.domain.models import ConversationRecord
from brightrun_gen.domain.stored import ReviewEvent
from brightrun_gen.domain.vocabulary import DECISIONS

# Keys of a brightrun record's metadata that hold facts the store keeps about the conversation.
STORE_FACTS = ("generation", "quality", "review", "judgement")
_SORTED_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False, sort_keys=True)


def brightrun_head(ctx: ExportContext, totals: FileTotals) -> dict:
    head: dict = {
        "format": "brightrun",
        "version": 1,
        "dataset": {"name": ctx.dataset_name, "description": ctx.description, "created_at": ctx.created_on},
    }
    if ctx.advisor is not None:
        head["advisor"] = ctx.advisor.model_dump()
    return head


def brightrun_records(conv: ExportConversation, ctx: ExportContext) -> list[dict]:
    return [{
        "key": conv.key,
        "source": conv.source,
        "dimensions": conv.dimensions.model_dump(exclude_none=True),
        "turns": [_turn(t) for t in conv.turns],
        "metadata": brightrun_metadata(conv),
    }]


def _turn(turn) -> dict:
    """A turn with its annotations, when it has any (domain/annotations.py)."""
    if turn.annotation:
        return {"role": turn.role, "content": turn.content, "annotation": turn.annotation}
    return {"role": turn.role, "content": turn.content}


def brightrun_metadata(conv: ExportConversation) -> dict:
    """The stored annotations plus the store's facts: generation, quality, review."""
    annotations = {k: v for k, v in conv.metadata.items() if k not in STORE_FACTS}
    facts = {"generation": _generation_facts(conv), "quality": conv.quality, "review": _review_facts(conv)}
    if conv.sources:
        facts["sources"] = list(conv.sources)
    judgement = conv.judgement if conv.judgement is not None else _carried(conv, "judgement")
    if judgement:
        facts["judgement"] = judgement
    return {**annotations, **facts}


def encode_brightrun(records: list[dict]) -> list[bytes]:
    """Like `encode_records`, with the metadata's keys sorted at every level.

    Stores give metadata back in their own key order (PostgreSQL's JSONB reorders keys), so
    sorting makes the same facts the same bytes whichever database they were read from.
    """
    encoded = []
    for record in records:
        if "metadata" not in record:
            encoded.append(json_text(record).encode())
            continue
        rest = json_text({k: v for k, v in record.items() if k != "metadata"})
        metadata = _SORTED_ENCODER.encode(record["metadata"])
        encoded.append(f'{rest[:-1]}{", " if len(rest) > 2 else ""}"metadata": {metadata}}}'.encode())
    return encoded


def _carried(conv: ExportConversation, name: str) -> dict:
    """Facts an imported brightrun file brought; they describe its text, version 1 here.

    The importer does not replay reviews or generation logs, so without these an export of an
    imported conversation would lose them.
    """
    value = conv.metadata.get(name)
    return value if conv.generation.version == 1 and isinstance(value, dict) else {}


def _generation_facts(conv: ExportConversation) -> dict:
    """What the store knows about how the text was written wins over what a file carried."""
    g, usage = conv.generation, conv.usage
    facts = {"model": None, "template_name": None, "template_hash": None, "log_id": None,
             "input_tokens": 0, "output_tokens": 0, "cost_usd": 0.0, **_carried(conv, "generation")}
    known = {"model": g.model, "template_name": g.template_name, "template_hash": g.template_hash, "log_id": g.log_id}
    facts.update({k: v for k, v in known.items() if v is not None})
    if usage.calls:
        facts.update(input_tokens=usage.input_tokens, output_tokens=usage.output_tokens, cost_usd=usage.cost_usd)
    # Carried numbers come back from SQLite's NUMERIC-affinity JSON column as 0 for 0.0: fix the types.
    facts.update(input_tokens=int(facts["input_tokens"] or 0), output_tokens=int(facts["output_tokens"] or 0),
                 cost_usd=round(float(facts["cost_usd"] or 0), 6))
    return facts


def _review_facts(conv: ExportConversation) -> dict:
    """This store's review decision; a carried one only while nobody here has decided."""
    events = [_event_facts(event) for event in conv.review_events]
    decided = bool(events) or conv.reviewer_notes is not None or conv.status in DECISIONS
    carried = _carried(conv, "review")
    if carried and not decided:
        return carried
    return {"status": conv.status, "notes": conv.reviewer_notes, "events": events}


def _event_facts(event: ReviewEvent) -> dict:
    return {"action": event.action, "at": event.at.isoformat() if event.at else "", "notes": event.notes,
            "reviewer": event.reviewer, "version": event.version}


def check_brightrun(record: dict) -> str | None:
    try:
        parsed = ConversationRecord.model_validate(record)
    except ValidationError as error:
        problem = error.errors()[0]
        return f"{'.'.join(str(p) for p in problem['loc']) or 'record'}: {problem['msg']}"
    for i, turn in enumerate(parsed.turns):
        if text_problem(turn.content):
            return f"turns[{i}].content: empty text"
    return order_problem([t.role for t in parsed.turns], ("user", "assistant"), "turns[{}]", 0)


FORMAT = ExportFormat("brightrun", ".json", "json", brightrun_records, check_brightrun,
                      "Bright Run JSON: the full record, re-importable with import-seeds",
                      head=brightrun_head, list_key="conversations", encode=encode_brightrun, reads=PARTS)
