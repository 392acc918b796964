"""Export conversations as files trainers load: select, check every record, stream, manifest.

Records are written one at a time to a hidden file beside the target and checked before they
are written; the files are renamed into place only when every record passed, so an invalid
export fails with the reason and never leaves a bad file behind.
"""

from __future__ import annotations

import json
import os
import tempfile
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping, Sequence

from sqlalchemy import Engine

from brightrun_gen.config import Settings, get_settings
from brightrun_gen.domain import exportformats as fmts
from brightrun_gen.domain.exportformats import (
    ExportContext, ExportConversation, ExportFormat, FileTotals, InvalidExportRecord,
)
from brightrun_gen.domain.models import DIMENSION_NAMES
from brightrun_gen.domain.vocabulary import OFFLINE_MODEL, STATUSES
from brightrun_gen.errors import InputError
from brightrun_gen.services import dataset, dedupe
from brightrun_gen.services.exportwriters import ExportedFile, FileSink, open_sink
from brightrun_gen.store import exports as store_exports
from brightrun_gen.store.conversations import ConversationQuery
from brightrun_gen.store.exports import ExportSnapshot, Selected

DEFAULT_STATUSES = ("approved",)


@dataclass(frozen=True)
class ExportRequest:
    """What to export, how, and where.

    statuses None means approved, unless explicit ids are given: those export whatever their
    status. `split` is the share of each tier that goes to the train file (e.g. 0.9).
    """

    format: str
    output: Path | str
    statuses: Sequence[str] | None = None
    where: Mapping[str, Sequence[Any]] = field(default_factory=dict)
    ids: Sequence[int | str] = ()
    include_offline: bool = False
    include_system: bool = True
    split: float | None = None
    seed: int = 0
    dedupe: float | None = None  # leave the later of each pair this similar out (never a seed)

    @property
    def effective_statuses(self) -> tuple[str, ...]:
        if self.statuses is None:
            return () if self.ids else DEFAULT_STATUSES
        return tuple(self.statuses)


@dataclass(frozen=True)
class ExportResult:
    format: str
    files: list[ExportedFile]
    manifest_path: Path
    conversations: int
    turns: int
    offline_included: int
    offline_excluded: int
    counts: dict[str, dict[str, int]]
    dedupe: dict | None = None
    diversity: dict | None = None
    # Conversations left out, by reason: no text yet (never generated), or not expressible in the format.
    left_out: dict[str, int] = field(default_factory=dict)

    @property
    def paths(self) -> list[Path]:
        return [f.path for f in self.files]


# Why a selected row is left out when it has no text yet (e.g. `--status any` takes planned rows).
NO_TEXT = "no text yet (never generated)"


@dataclass(frozen=True)
class _Selection:
    rows: list[Selected]
    offline_included: int
    offline_excluded: int
    deduplicated: dedupe.Deduplicated | None = None
    no_text: int = 0

    @property
    def ids(self) -> list[int]:
        return [r.id for r in self.rows]


@dataclass(frozen=True)
class _Plan:
    """Which file each conversation goes to: one file, or train/val by the split assignment."""

    targets: dict[str | None, Path]
    assignment: dict[str, str] | None

    def file_of(self, key: str) -> str | None:
        return self.assignment[key] if self.assignment else None


# --- the three doors: count, preview, export -------------------------------------------------


def count(engine: Engine, request: ExportRequest) -> int:
    """How many conversations the request would export."""
    return len(_select(engine, request).rows)


def preview(engine: Engine, request: ExportRequest, n: int = 5) -> list[dict]:
    """The first n records as the file would hold them (checked like the export checks them)."""
    fmt = fmts.get_format(request.format)
    ids = _select(engine, request).ids[:n]
    records: list[dict] = []
    with store_exports.export_snapshot(engine) as snapshot:
        context = _context(snapshot, request, fmt)
        for conv in snapshot.conversations(ids, batch_size=max(n, 1), parts=fmt.reads):
            if fmt.leave_out and fmt.leave_out(conv, context):
                continue
            records += _checked_records(fmt, conv, context)
            if len(records) >= n:
                break
    return records[:n]


def export(engine: Engine, request: ExportRequest, settings: Settings | None = None) -> ExportResult:
    """Write the export (one file, or train and val files) and its manifest."""
    fmt = fmts.get_format(request.format)
    selection = _select(engine, request)
    if not selection.rows:
        raise InputError(_nothing_matches(request, selection))
    output = _output_path(request.output, fmt)
    assignment = _assignment(selection, request)
    plan = _Plan(_targets(output, assignment is not None), assignment)
    output.parent.mkdir(parents=True, exist_ok=True)
    with store_exports.export_snapshot(engine) as snapshot:
        context = _context(snapshot, request, fmt)
        files, tally = _write_files(snapshot, fmt, context, selection, plan)
    result = ExportResult(
        format=fmt.name, files=files, manifest_path=_manifest_path(output),
        conversations=sum(f.conversations for f in files), turns=sum(f.turns for f in files),
        offline_included=selection.offline_included, offline_excluded=selection.offline_excluded,
        counts=tally.as_dict(), dedupe=selection.deduplicated.manifest() if selection.deduplicated else None,
        diversity=_diversity(engine, selection, request, settings), left_out=tally.left_out_counts(selection.no_text),
    )
    _write_manifest(result, request)
    return result


def _diversity(engine: Engine, selection: _Selection, request: ExportRequest, settings: Settings | None) -> dict:
    """The exported set's diversity figures; pairs counted at the dedupe threshold, or the setting's."""
    threshold = request.dedupe or (settings or get_settings()).near_duplicate_threshold
    return dataset.diversity(engine, threshold=threshold, ids=selection.ids).as_dict()


# --- selection -------------------------------------------------------------------------------


def export_download(engine: Engine, request: ExportRequest) -> tuple[str, bytes, int]:
    """Export into a temporary folder and return (file name, bytes, conversations) for a download."""
    with tempfile.TemporaryDirectory() as folder:
        result = export(engine, replace(request, output=Path(folder) / Path(str(request.output)).name))
        written = result.files[0]
        return written.path.name, written.path.read_bytes(), result.conversations


def _select(engine: Engine, request: ExportRequest) -> _Selection:
    unknown = sorted(set(request.effective_statuses) - set(STATUSES))
    if unknown:
        raise InputError(f"export: unknown status {unknown[0]!r}; use one of {', '.join(STATUSES)}")
    ids = store_exports.resolve_ids(engine, request.ids) if request.ids else []
    query = ConversationQuery(where={k: list(v) for k, v in request.where.items()},
                              statuses=request.effective_statuses, ids=ids)
    selected = store_exports.select_conversations(engine, query)
    rows = [r for r in selected if r.current_version > 0]
    no_text = len(selected) - len(rows)
    offline = sum(r.model == OFFLINE_MODEL for r in rows)
    if request.include_offline:
        selection = _Selection(rows, offline, 0, no_text=no_text)
    else:
        selection = _Selection([r for r in rows if r.model != OFFLINE_MODEL], 0, offline, no_text=no_text)
    return _deduplicated(engine, selection, request.dedupe)


def _deduplicated(engine: Engine, selection: _Selection, threshold: float | None) -> _Selection:
    if threshold is None:
        return selection
    found = dedupe.without_near_duplicates(engine, selection.ids, threshold)
    kept = set(found.kept_ids)
    return replace(selection, rows=[r for r in selection.rows if r.id in kept], deduplicated=found)


def _nothing_matches(request: ExportRequest, selection: _Selection) -> str:
    statuses = ", ".join(request.effective_statuses) or "any"
    filters = [f"status {statuses}", *(f"{k}={','.join(map(str, v))}" for k, v in request.where.items())]
    if request.ids:
        filters.append(f"ids {', '.join(map(str, request.ids))}")
    message = f"nothing to export: no conversation matches {'; '.join(filters)}"
    if selection.no_text:
        message += f" ({selection.no_text} without text yet: generate them first)"
    if selection.offline_excluded:
        message += f" ({selection.offline_excluded} offline conversation(s) left out: include offline ones to export them)"
    return message


def _assignment(selection: _Selection, request: ExportRequest) -> dict[str, str] | None:
    if request.split is None:
        return None
    return fmts.assign_splits(((r.key, r.tier) for r in selection.rows), request.split, request.seed)


# --- paths -----------------------------------------------------------------------------------


def _output_path(output: Path | str, fmt: ExportFormat) -> Path:
    path = Path(output)
    if path.name in ("", ".", ".."):
        raise InputError(f"export output {str(output)!r}: expected a file name, e.g. exports/approved{fmt.suffix}")
    return path if path.suffix else path.with_name(path.name + fmt.suffix)


def _targets(output: Path, split: bool) -> dict[str | None, Path]:
    """out.jsonl, or out.train.jsonl and out.val.jsonl."""
    if not split:
        return {None: output}
    return {name: output.with_name(f"{output.stem}.{name}{output.suffix}") for name in ("train", "val")}


def _manifest_path(output: Path) -> Path:
    return output.with_name(f"{output.stem}.manifest.json")


# --- building and checking records -----------------------------------------------------------


def _context(snapshot: ExportSnapshot, request: ExportRequest, fmt: ExportFormat) -> ExportContext:
    advisor = snapshot.advisor()
    if advisor is None and request.include_system and fmt.name in ("openai", "sharegpt"):
        raise InputError("export: the store has no advisor profile for the system prompt; "
                         "run `brightrun init`, or export without the system prompt")
    catalog = snapshot.catalog() if fmt.needs_catalog else None
    if fmt.needs_catalog and (catalog is None or not request.include_system):
        raise InputError(f"{fmt.name} export: the format needs the advisor's profile, the catalog and the "
                         "system prompt; run `brightrun init` and export with the system prompt")
    statuses = ", ".join(request.effective_statuses) or "selected"
    return ExportContext(
        advisor=advisor,
        catalog=catalog,
        include_system=request.include_system,
        persona_labels=snapshot.persona_labels() if fmt.name == "training-pairs" else {},
        dataset_name=_output_path(request.output, fmt).stem,
        description=f"Bright Run export of {statuses} conversations",
        created_on=datetime.now(timezone.utc).date().isoformat(),
    )


def _checked_records(fmt: ExportFormat, conv: ExportConversation, context: ExportContext) -> list[dict]:
    """The conversation's records, each checked; the first problem stops the export."""
    problem = fmts.conversation_problem(conv) if fmt.carries_turns else None
    if problem is None:
        records = fmt.records(conv, context)
        problem = fmt.check_all(records) if fmt.check_all else next(filter(None, map(fmt.check, records)), None)
    if problem:
        raise InvalidExportRecord.about(fmt.name, conv, problem)
    return records


# --- writing ---------------------------------------------------------------------------------


def _file_totals(snapshot: ExportSnapshot, fmt: ExportFormat, selection: _Selection,
                 plan: _Plan) -> dict[str | None, FileTotals]:
    """Conversations and turns per file, for formats whose header states them."""
    turns = snapshot.turn_counts(selection.ids) if fmt.head is not None else {}  # summary heads count as they go
    conversations, turn_sums = Counter(), Counter()
    for row in selection.rows:
        conversations[plan.file_of(row.key)] += 1
        turn_sums[plan.file_of(row.key)] += turns.get(row.id, 0)
    return {name: FileTotals(conversations[name], turn_sums[name]) for name in plan.targets}


def _write_files(snapshot: ExportSnapshot, fmt: ExportFormat, context: ExportContext,
                 selection: _Selection, plan: _Plan) -> tuple[list[ExportedFile], _Tally]:
    """Stream every record into its file; commit all files only when all of them passed."""
    totals = _file_totals(snapshot, fmt, selection, plan)
    sinks: dict[str | None, FileSink] = {}
    tally = _Tally()
    try:
        for name, path in plan.targets.items():
            sinks[name] = open_sink(path, name, fmt, context, totals[name])
        for conv in snapshot.conversations(selection.ids, parts=fmt.reads):
            reason = fmt.leave_out(conv, context) if fmt.leave_out else None
            if reason:
                tally.leave_out(reason)
                continue
            records = _checked_records(fmt, conv, context)
            sinks[plan.file_of(conv.key)].add(conv, records)
            tally.add(conv)
        if not tally.added:
            raise InputError(f"nothing to export as {fmt.name}: every selected conversation was left out ("
                             + "; ".join(f"{n} × {why}" for why, n in tally.left_out_counts(selection.no_text).items())
                             + ")")
        files = [sink.finish() for sink in sinks.values()]
    except BaseException:
        for sink in sinks.values():
            sink.discard()
        raise
    for sink in sinks.values():
        sink.commit()
    return files, tally


# --- counts and manifest ---------------------------------------------------------------------


class _Tally:
    """Conversations per value of every dimension, status, source and model."""

    FIELDS = (*DIMENSION_NAMES, "status", "source", "model")

    def __init__(self) -> None:
        self._counts: dict[str, Counter] = defaultdict(Counter)
        self._left_out: Counter = Counter()
        self.added = 0

    def leave_out(self, reason: str) -> None:
        self._left_out[reason] += 1

    def left_out_counts(self, no_text: int) -> dict[str, int]:
        counts = Counter(self._left_out)
        if no_text:
            counts[NO_TEXT] += no_text
        return dict(sorted(counts.items()))

    def add(self, conv: ExportConversation) -> None:
        self.added += 1
        values = {**conv.dimensions.model_dump(), "status": conv.status, "source": conv.source,
                  "model": conv.generation.model}
        for name in self.FIELDS:
            value = values[name]
            self._counts[name]["none" if value is None else str(value)] += 1

    def as_dict(self) -> dict[str, dict[str, int]]:
        return {name: dict(sorted(self._counts[name].items())) for name in self.FIELDS}


def _write_manifest(result: ExportResult, request: ExportRequest) -> None:
    manifest = {
        "format": result.format,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "filters": {
            "statuses": list(request.effective_statuses) or "any",
            "where": {k: list(v) for k, v in request.where.items()},
            "ids": list(request.ids),
            "include_offline": request.include_offline,
            "include_system": request.include_system,
        },
        "split": {"ratio": request.split, "seed": request.seed, "stratified_by": "tier"}
        if request.split is not None else None,
        "conversations": result.conversations,
        "turns": result.turns,
        "offline_included": result.offline_included,
        "offline_excluded": result.offline_excluded,
        "left_out": result.left_out,
        "files": [f.as_dict() for f in result.files],
        "counts": result.counts,
        "dedupe": result.dedupe,
        "diversity": result.diversity,
    }
    partial = result.manifest_path.with_name(f".{result.manifest_path.name}.{uuid.uuid4().hex[:8]}.partial")
    partial.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    os.replace(partial, result.manifest_path)
