"""CSV metadata: one row per conversation (its dimensions, score and usage; no turns)."""

from __future__ import annotations

from brightrun_gen.domain.exportformats.base import ExportContext, ExportConversation, ExportFormat
from brightrun_gen.domain.models import DIMENSION_NAMES

CSV_COLUMNS = (
    "id", "key", "status", "source", "model", "version", *DIMENSION_NAMES, "quality_score",
    "turns", "input_tokens", "output_tokens", "cost_usd", "reviewer_notes",
)
_CSV_REQUIRED = ("id", "key", "status", "source", "tier", "persona", "emotion_start", "emotion_end", "topic")


def csv_records(conv: ExportConversation, ctx: ExportContext) -> list[dict]:
    usage = conv.usage
    return [{
        "id": conv.id,
        "key": conv.key,
        "status": conv.status,
        "source": conv.source,
        "model": conv.generation.model,
        "version": conv.generation.version,
        **conv.dimensions.model_dump(),
        "quality_score": conv.quality_score,
        "turns": len(conv.turns),
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "cost_usd": round(usage.cost_usd, 6),
        "reviewer_notes": conv.reviewer_notes,
    }]


def check_csv(record: dict) -> str | None:
    if tuple(record) != CSV_COLUMNS:
        return f"expected the columns {', '.join(CSV_COLUMNS)}"
    for column in _CSV_REQUIRED:
        if record[column] is None or str(record[column]).strip() == "":
            return f"{column}: empty"
    return None


FORMAT = ExportFormat("csv", ".csv", "csv", csv_records, check_csv,
                      "CSV metadata: one row per conversation", columns=CSV_COLUMNS, carries_turns=False,
                      reads=frozenset({"usage"}))
