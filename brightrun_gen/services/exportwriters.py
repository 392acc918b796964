"""Export files as they are written: hidden partial files beside their targets, hashed and
counted as the bytes go out, renamed into place only when the whole export passed.

One sink per file and layout (JSON lines, one JSON document, CSV, either JSON shape with a head
counted from its records, a zip of one file per record); `services/exporting.py` decides what
goes into which file and when to commit or discard them.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import queue
import threading
import uuid
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

from brightrun_gen.domain.exportformats import (
    ExportContext, ExportConversation, ExportFormat, FileTotals, InvalidExportRecord,
)

# Characters JSON leaves raw that str.splitlines() and some JSONL readers take as line ends, as
# UTF-8 (those bytes only ever encode these characters) and as JSON escapes.
_LINE_BREAKS = {"\u2028".encode(): b"\\u2028", "\u2029".encode(): b"\\u2029", "\x85".encode(): b"\\u0085"}


@dataclass(frozen=True)
class ExportedFile:
    """One written file as the manifest and the CLI report it."""

    path: Path
    split: str | None
    conversations: int
    records: int
    turns: int
    bytes: int
    sha256: str

    def as_dict(self) -> dict:
        return {**asdict(self), "path": self.path.name}


def _encoded(fmt: ExportFormat, conv: ExportConversation, records: list[dict]) -> list[bytes]:
    try:
        return fmt.encode(records)
    except ValueError as error:  # NaN or Infinity somewhere in the record
        raise InvalidExportRecord.about(fmt.name, conv, str(error)) from None


def _one_line(data: bytes) -> bytes:
    for raw, escaped in _LINE_BREAKS.items():
        if raw in data:
            data = data.replace(raw, escaped)
    return data


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


class FileSink:
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


class _JsonLinesSink(FileSink):
    def write(self, conv: ExportConversation, records: list[dict]) -> None:
        for data in _encoded(self.fmt, conv, records):
            self.out.write_bytes(_one_line(data))
            self.out.write_bytes(b"\n")


class _JsonDocumentSink(FileSink):
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


class _CsvSink(FileSink):
    def start(self, context: ExportContext, totals: FileTotals) -> None:
        self._writer = csv.writer(self.out)
        self._writer.writerow(self.fmt.columns)

    def write(self, conv: ExportConversation, records: list[dict]) -> None:
        for record in records:
            self._writer.writerow([record[column] for column in self.fmt.columns])


class _SummarySink(FileSink):
    """A file whose head is counted from its records (totals, a quality summary): the records
    go to a hidden body file first; at the end the head is written, then the body copied after it."""

    def start(self, context: ExportContext, totals: FileTotals) -> None:
        self.context = context
        self.summary = self.fmt.summary()
        self.body_path = self.partial.with_name(self.partial.name + ".body")
        self.body = open(self.body_path, "xb", buffering=_HashedFile.CHUNK)

    def write(self, conv: ExportConversation, records: list[dict]) -> None:
        self.summary.add(conv, records)
        for data in _encoded(self.fmt, conv, records):
            self.write_record(data)

    def write_record(self, data: bytes) -> None:
        raise NotImplementedError

    def head(self) -> bytes:
        raise NotImplementedError

    def tail(self) -> bytes:
        return b""

    def end(self) -> None:
        self.body.close()
        self.out.write_bytes(self.head())
        with open(self.body_path, "rb") as body:
            while chunk := body.read(_HashedFile.CHUNK):
                self.out.write_bytes(chunk)
        self.out.write_bytes(self.tail())
        self.body_path.unlink()

    def discard(self) -> None:
        self.body.close()
        self.body_path.unlink(missing_ok=True)
        super().discard()


class _JsonSummarySink(_SummarySink):
    def start(self, context: ExportContext, totals: FileTotals) -> None:
        super().start(context, totals)
        self._separator = b"    "

    def write_record(self, data: bytes) -> None:
        self.body.write(self._separator)
        self.body.write(data)
        self._separator = b",\n    "

    def head(self) -> bytes:
        head = json.dumps(self.fmt.summary_head(self.summary, self.context), ensure_ascii=False, indent=2)
        return f"{head[:-1].rstrip()},\n  {json.dumps(self.fmt.list_key)}: [\n".encode()

    def tail(self) -> bytes:
        return b"\n  ]\n}\n"


class _JsonLinesSummarySink(_SummarySink):
    """The format's encoder escapes line breaks in the text already (lora_v4.encode_v4)."""

    def write_record(self, data: bytes) -> None:
        self.body.write(data)
        self.body.write(b"\n")

    def head(self) -> bytes:
        head = json.dumps(self.fmt.summary_head(self.summary, self.context), ensure_ascii=False)
        return _one_line(head.encode()) + b"\n"


class _ZipSink(FileSink):
    """A zip of one JSON file per record, named by the format's entry_name."""

    def __init__(self, target: Path, split: str | None, fmt: ExportFormat):
        self.target, self.split, self.fmt = target, split, fmt
        self.partial = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.partial")
        # The fastest deflate level: five times faster than the default, a fifth larger.
        self.zip = zipfile.ZipFile(self.partial, "x", compression=zipfile.ZIP_DEFLATED, compresslevel=1)
        self.conversations = self.records = self.turns = 0

    def write(self, conv: ExportConversation, records: list[dict]) -> None:
        for record, data in zip(records, _encoded(self.fmt, conv, records)):
            self.zip.writestr(self.fmt.entry_name(record), data + b"\n")

    def finish(self) -> ExportedFile:
        self.zip.close()
        digest = hashlib.sha256()
        with open(self.partial, "rb") as done:
            while chunk := done.read(_HashedFile.CHUNK):
                digest.update(chunk)
        return ExportedFile(self.target, self.split, self.conversations, self.records, self.turns,
                            self.partial.stat().st_size, digest.hexdigest())

    def discard(self) -> None:
        self.zip.close()
        self.partial.unlink(missing_ok=True)



def open_sink(target: Path, split: str | None, fmt: ExportFormat, context: ExportContext,
              totals: FileTotals) -> FileSink:
    """A sink for the format's layout, its file begun (a JSON document's head, a CSV header)."""
    layouts = {"jsonl": _JsonLinesSink, "json": _JsonDocumentSink, "csv": _CsvSink,
               "json-summary": _JsonSummarySink, "jsonl-summary": _JsonLinesSummarySink, "zip": _ZipSink}
    sink = layouts[fmt.layout](target, split, fmt)
    sink.start(context, totals)
    return sink

