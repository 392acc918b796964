"""Import conversation files (ours and the console-era format) into the store."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from sqlalchemy import Connection, Engine

from brightrun_gen.domain.models import ConversationRecord, Demographics, Persona
from brightrun_gen.domain.quality import score_conversation
from brightrun_gen.domain.seedfiles import parse_seed_file
from brightrun_gen.errors import BrightRunError, InputError
from brightrun_gen.services import dedupe
from brightrun_gen.store import catalog_repo, conversations as conv_store
from brightrun_gen.store.db import write


@dataclass(frozen=True)
class ImportResult:
    path: str
    outcome: str  # imported | duplicate | failed
    message: str
    conversations: int = 0
    turns: int = 0

    def line(self) -> str:
        return f"{self.path}: {self.outcome}: {self.message}"


def expand_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Files as given, folders as their *.json files in name order."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*.json") if p.is_file()))
        elif path.exists():
            found.append(path)
        else:
            raise InputError(f"{path}: no such file or folder")
    return found


def import_paths(engine: Engine, paths: Iterable[str | Path], *, refresh_seeds: bool = False) -> list[ImportResult]:
    """Import every file on its own: one transaction each, a bad file never stops the others.

    `refresh_seeds` (init, for our own shipped seeds): a file whose conversations exist as seeds
    nobody has reviewed brings them up to date as a new version instead of failing.
    """
    results = [import_file(engine, path, refresh_seeds=refresh_seeds) for path in expand_paths(paths)]
    dedupe.refresh_index(engine)  # imported text takes part in near-duplicate checks from now on
    return results


def import_file(engine: Engine, path: Path, *, refresh_seeds: bool = False) -> ImportResult:
    name = path.name
    try:
        records = parse_seed_file(path)  # first: it refuses oversized and special files unread
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        with write(engine) as conn:
            if conv_store.file_already_imported(conn, digest):
                return ImportResult(name, "duplicate", "skipped, this file was imported before")
            taken = conv_store.existing_keys(conn, [r.key for r in records])
            if taken and refresh_seeds and _unreviewed_seeds(conn, taken):
                turns = sum(_refresh_seed(conn, r) if r.key in taken else _store_record(conn, r) for r in records)
                conv_store.record_imported_file(conn, name, digest, [r.key for r in records])
                return ImportResult(name, "updated", f"{len(taken)} seed conversation(s) brought up to date",
                                    conversations=len(records), turns=turns)
            if taken:
                raise InputError(f"{name}: conversation {sorted(taken)[0]!r} already exists with other content")
            turns = sum(_store_record(conn, record) for record in records)
            conv_store.record_imported_file(conn, name, digest, [r.key for r in records])
    except BrightRunError as exc:
        return ImportResult(name, "failed", str(exc))
    except OSError as exc:
        return ImportResult(name, "failed", f"{name}: cannot read: {exc.strerror}")
    return ImportResult(name, "imported", f"{len(records)} conversation(s), {turns} turns",
                        conversations=len(records), turns=turns)


def _unreviewed_seeds(conn: Connection, keys: set[str]) -> bool:
    rows = [conv_store.get_row(conn, conv_store.find_id(conn, key)) for key in keys]
    return all(row.source == "seed" and row.status == "seed" for row in rows)


def _refresh_seed(conn: Connection, record: ConversationRecord) -> int:
    """A shipped seed whose text changed gets the new text as its current version (the old one is kept)."""
    row = conv_store.get_row(conn, conv_store.find_id(conn, record.key))
    stored = [(t.role, t.content) for t in conv_store.load_turns(conn, row.id, row.current_version)]
    if stored == [(t.role, t.content) for t in record.turns]:
        return 0
    quality = score_conversation(record.turns, topic_terms=catalog_repo.topic_terms(conn, record.dimensions.topic))
    conv_store.save_version(conn, row.id, record.turns, model="human", status="seed", quality=quality.as_dict())
    return len(record.turns)


def _store_record(conn: Connection, record: ConversationRecord) -> int:
    persona = _persona_from(record)
    if persona is not None:
        catalog_repo.ensure_persona(conn, persona)
    status = "seed" if record.source == "seed" else "generated"
    cid = conv_store.insert_conversation(conn, record.key, record.dimensions, source=record.source, status=status)
    topic_terms = catalog_repo.topic_terms(conn, record.dimensions.topic)
    quality = score_conversation(record.turns, topic_terms=topic_terms).as_dict()
    model = record.metadata.get("generation", {}).get("model", "human") if record.source != "seed" else "human"
    conv_store.save_version(conn, cid, record.turns, model=model, status=status, quality=quality)
    conv_store.save_metadata(conn, cid, record.metadata)
    return len(record.turns)


def _persona_from(record: ConversationRecord) -> Persona | None:
    """Console-era files describe their client; create that persona when the catalog lacks it."""
    info = record.metadata.get("persona")
    if not isinstance(info, dict) or not info.get("key"):
        return None
    unknown = "not stated in the seed file"
    return Persona(
        key=info["key"],
        name=info.get("name") or info["key"],
        archetype=info.get("archetype") or info.get("name") or info["key"],
        demographics=Demographics(age=0, occupation=unknown, income=unknown, family=unknown, location=unknown),
        financial_background=info.get("background") or unknown,
        traits=[],
        communication_style=unknown,
        emotional_baseline=unknown,
        goals=[],
    )
