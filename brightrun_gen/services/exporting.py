"""Export conversations as files trainers load: select, check every record, stream, manifest.

Records are written one at a time to a hidden file beside the target and checked before they
are written; the files are renamed into place only when every record passed, so an invalid
export fails with the reason and never leaves a bad file behind.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import queue
import tempfile
import threading
import uuid
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping, Sequence

from sqlalchemy import Engine

from brightrun_gen.config import Settings, get_settings
from brightrun_gen.domain import exportformats as fmts
from brightrun_gen.domain.exportformats import (
    ExportContext, ExportConversation, ExportFormat, FileTotals, InvalidExportRecord,
)
from brightrun_gen.domain.models import STATUSES
from brightrun_gen.errors import InputError
from brightrun_gen.services import dataset, dedupe
from brightrun_gen.store import exports as store_exports
from brightrun_gen.store.conversations import ConversationQuery
from brightrun_gen.store.exports import ExportSnapshot, Selected

DEFAULT_STATUSES = ("approved",)
# Characters JSON leaves raw that str.splitlines() and some JSONL readers take as line ends, as
# UTF-8 (those bytes only ever encode these characters) and as JSON escapes.
_LINE_BREAKS = {"\u2028".encode(): b"\\u2028", "\u2029".encode(): b"\\u2029", "\x85".encode(): b"\\u0085"}


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
class ExportedFile:
    path: Path
    split: str | None
    conversations: int
    records: int
    turns: int
    bytes: int
    sha256: str

    def as_dict(self) -> dict:
        return {**asdict(self), "path": self.path.name}


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

    @property
    def paths(self) -> list[Path]:
        return [f.path for f in self.files]


@dataclass(frozen=True)
class _Selection:
    rows: list[Selected]
    offline_included: int
    offline_excluded: int
    deduplicated: dedupe.Deduplicated | None = None

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
        diversity=_diversity(engine, selection, request, settings),
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
    rows = store_exports.select_conversations(engine, query)
    offline = sum(r.model == fmts.OFFLINE_MODEL for r in rows)
    if request.include_offline:
        selection = _Selection(rows, offline, 0)
    else:
        selection = _Selection([r for r in rows if r.model != fmts.OFFLINE_MODEL], 0, offline)
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
    statuses = ", ".join(request.effective_statuses) or "selected"
    return ExportContext(
        advisor=advisor,
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
        problem = next(filter(None, map(fmt.check, records)), None)
    if problem:
        raise _invalid(fmt, conv, problem)
    return records


def _encoded(fmt: ExportFormat, conv: ExportConversation, records: list[dict]) -> list[bytes]:
    try:
        return fmt.encode(records)
    except ValueError as error:  # NaN or Infinity somewhere in the record
        raise _invalid(fmt, conv, str(error)) from None


def _invalid(fmt: ExportFormat, conv: ExportConversation, problem: str) -> InvalidExportRecord:
    return InvalidExportRecord(f"{fmt.name} export: conversation {conv.key!r} (id {conv.id}): {problem}; "
                               "no file was written")


def _one_line(data: bytes) -> bytes:
    for raw, escaped in _LINE_BREAKS.items():
        if raw in data:
            data = data.replace(raw, escaped)
    return data


# --- writing ---------------------------------------------------------------------------------


def _file_totals(snapshot: ExportSnapshot, fmt: ExportFormat, selection: _Selection,
                 plan: _Plan) -> dict[str | None, FileTotals]:
    """Conversations and turns per file, for formats whose header states them."""
    turns = snapshot.turn_counts(selection.ids) if fmt.head is not None else {}
    conversations, turn_sums = Counter(), Counter()
    for row in selection.rows:
        conversations[plan.file_of(row.key)] += 1
        turn_sums[plan.file_of(row.key)] += turns.get(row.id, 0)
    return {name: FileTotals(conversations[name], turn_sums[name]) for name in plan.targets}


def _write_files(snapshot: ExportSnapshot, fmt: ExportFormat, context: ExportContext,
                 selection: _Selection, plan: _Plan) -> tuple[list[ExportedFile], _Tally]:
    """Stream every record into its file; commit all files only when all of them passed."""
    totals = _file_totals(snapshot, fmt, selection, plan)
    sinks: dict[str | None, _Sink] = {}
    tally = _Tally()
    try:
        for name, path in plan.targets.items():
            sinks[name] = _open_sink(path, name, fmt, context, totals[name])
        for conv in snapshot.conversations(selection.ids, parts=fmt.reads):
            records = _checked_records(fmt, conv, context)
            sinks[plan.file_of(conv.key)].add(conv, records)
            tally.add(conv)
        files = [sink.finish() for sink in sinks.values()]
    except BaseException:
        for sink in sinks.values():
            sink.discard()
        raise
    for sink in sinks.values():
        sink.commit()
    return files, tally


class _HashedFile:
    """Bytes out, hashed and counted as they are written (no second read of a big file).

    A helper thread hashes and writes: both release the GIL, so on a second core they overlap
    with building the next records. Chunks of about 1 MB keep the hand-offs few; a bounded
    queue keeps at most 16 of them in flight.
    """

    CHUNK = 1 << 20

    def __init__(self, path: Path):
        self._file = open(path, "xb")
        self.sha256 = hashlib.sha256()
        self.bytes = 0
        self._pending: list[bytes] = []
        self._pending_size = 0
        self._chunks: queue.Queue[bytes | None] = queue.Queue(maxsize=16)
        self._failure: BaseException | None = None
        self._writer = threading.Thread(target=self._drain, name=f"export {path.name}", daemon=True)
        self._writer.start()

    def write_bytes(self, data: bytes) -> None:
        self.bytes += len(data)
        self._pending.append(data)
        self._pending_size += len(data)
        if self._pending_size >= self.CHUNK:
            self._hand_off()

    def write(self, text: str) -> None:
        """Text as UTF-8; also what csv.writer calls."""
        self.write_bytes(text.encode("utf-8"))

    def close(self) -> None:
        """Write what is left and wait for it; raises what the writer met (e.g. disk full)."""
        if self._writer.is_alive():
            self._hand_off()
            self._chunks.put(None)
            self._writer.join()
            self._file.close()
        if self._failure is not None:
            raise self._failure

    def _hand_off(self) -> None:
        if self._failure is not None:
            raise self._failure
        if self._pending:
            self._chunks.put(b"".join(self._pending))
            self._pending, self._pending_size = [], 0

    def _drain(self) -> None:
        while (chunk := self._chunks.get()) is not None:
            if self._failure is None:
                try:
                    self.sha256.update(chunk)
                    self._file.write(chunk)
                except BaseException as error:  # handed to the export thread at its next write
                    self._failure = error


class _Sink:
    """One file being written: a hidden partial file beside the target until commit."""

    def __init__(self, target: Path, split: str | None, fmt: ExportFormat):
        self.target, self.split, self.fmt = target, split, fmt
        self.partial = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.partial")
        self.out = _HashedFile(self.partial)
        self.conversations = self.records = self.turns = 0

    def start(self, context: ExportContext, totals: FileTotals) -> None:
        pass

    def add(self, conv: ExportConversation, records: list[dict]) -> None:
        self.write(conv, records)
        self.conversations += 1
        self.records += len(records)
        self.turns += len(conv.turns)

    def write(self, conv: ExportConversation, records: list[dict]) -> None:
        raise NotImplementedError

    def end(self) -> None:
        pass

    def finish(self) -> ExportedFile:
        self.end()
        self.out.close()
        return ExportedFile(self.target, self.split, self.conversations, self.records, self.turns,
                            self.out.bytes, self.out.sha256.hexdigest())

    def commit(self) -> None:
        os.replace(self.partial, self.target)

    def discard(self) -> None:
        try:
            self.out.close()
        except OSError:
            pass  # the export already failed; its first error is the one to report
        self.partial.unlink(missing_ok=True)


class _JsonLinesSink(_Sink):
    def write(self, conv: ExportConversation, records: list[dict]) -> None:
        for data in _encoded(self.fmt, conv, records):
            self.out.write_bytes(_one_line(data))
            self.out.write_bytes(b"\n")


class _JsonDocumentSink(_Sink):
    """{head…, "list_key": [record,\\n record, …]}: one record per line, never the whole list in memory."""

    def start(self, context: ExportContext, totals: FileTotals) -> None:
        head = json.dumps(self.fmt.head(context, totals), ensure_ascii=False, indent=2)
        self.out.write(f"{head[:-1].rstrip()},\n  {json.dumps(self.fmt.list_key)}: [\n")
        self._separator = b"    "

    def write(self, conv: ExportConversation, records: list[dict]) -> None:
        for data in _encoded(self.fmt, conv, records):
            self.out.write_bytes(self._separator)
            self.out.write_bytes(data)
            self._separator = b",\n    "

    def end(self) -> None:
        self.out.write("\n  ]\n}\n")


class _CsvSink(_Sink):
    def start(self, context: ExportContext, totals: FileTotals) -> None:
        self._writer = csv.writer(self.out)
        self._writer.writerow(self.fmt.columns)

    def write(self, conv: ExportConversation, records: list[dict]) -> None:
        for record in records:
            self._writer.writerow([record[column] for column in self.fmt.columns])


def _open_sink(target: Path, split: str | None, fmt: ExportFormat, context: ExportContext,
               totals: FileTotals) -> _Sink:
    layouts = {"jsonl": _JsonLinesSink, "json": _JsonDocumentSink, "csv": _CsvSink}
    sink = layouts[fmt.layout](target, split, fmt)
    sink.start(context, totals)
    return sink


# --- counts and manifest ---------------------------------------------------------------------


class _Tally:
    """Conversations per value of every dimension, status, source and model."""

    FIELDS = (*fmts.DIMENSION_NAMES, "status", "source", "model")

    def __init__(self) -> None:
        self._counts: dict[str, Counter] = defaultdict(Counter)

    def add(self, conv: ExportConversation) -> None:
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
        "files": [f.as_dict() for f in result.files],
        "counts": result.counts,
        "dedupe": result.dedupe,
        "diversity": result.diversity,
    }
    partial = result.manifest_path.with_name(f".{result.manifest_path.name}.{uuid.uuid4().hex[:8]}.partial")
    partial.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    os.replace(partial, result.manifest_path)
