"""Export formats: pure builders from stored conversations to the records trainers load.

Each format turns one `ExportConversation` into records (a JSONL line, an element of a JSON
document's list, or a CSV row) and has a check that every record must pass before the service
writes it, so a file that leaves Bright Run loads in its consumer as it is. No I/O here: the
store hands over `ExportConversation`s, `services/exporting.py` streams records to disk.

One module per format, each ending in its `FORMAT`; `FORMATS` below lists them in the order
the CLI and the export page offer them. Import from this package, not from its modules.
"""

from __future__ import annotations

from brightrun_gen.domain.exportformats import (
    brightrun_json, lora_v4, metadata_csv, openai_jsonl, sharegpt_jsonl, training_pairs,
)
from brightrun_gen.domain.exportformats.base import (
    PARTS, ExportContext, ExportConversation, ExportFormat, FileTotals, Generation, InvalidExportRecord,
)
from brightrun_gen.domain.exportformats.brightrun_json import check_brightrun
from brightrun_gen.domain.exportformats.checks import conversation_problem
from brightrun_gen.domain.exportformats.metadata_csv import CSV_COLUMNS
from brightrun_gen.domain.exportformats.openai_jsonl import check_openai
from brightrun_gen.domain.exportformats.sharegpt_jsonl import check_sharegpt
from brightrun_gen.domain.exportformats.splits import assign_splits
from brightrun_gen.domain.exportformats.system_prompt import advisor_system_prompt
from brightrun_gen.domain.exportformats.training_pairs import (
    check_training_pair, encode_training_pairs, training_pair_records,
)
from brightrun_gen.errors import InputError

__all__ = [
    "CSV_COLUMNS", "FORMATS", "PARTS", "ExportContext", "ExportConversation", "ExportFormat",
    "FileTotals", "Generation", "InvalidExportRecord", "advisor_system_prompt",
    "assign_splits", "check_brightrun", "check_openai", "check_sharegpt", "check_training_pair",
    "conversation_problem", "encode_training_pairs", "get_format",
    "training_pair_records",
]

FORMATS: dict[str, ExportFormat] = {
    fmt.name: fmt
    for fmt in (*(module.FORMAT for module in (openai_jsonl, sharegpt_jsonl, brightrun_json, training_pairs,
                                               metadata_csv)), *lora_v4.FORMATS)
}


def get_format(name: str) -> ExportFormat:
    try:
        return FORMATS[name]
    except KeyError:
        raise InputError(f"export format {name!r} is unknown; use one of {', '.join(FORMATS)}") from None
