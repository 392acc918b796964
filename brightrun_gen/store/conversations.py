"""Conversations, their versions, turns and metadata: every SQL statement about them."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable, Iterator, Sequence

from sqlalchemy import Connection, Engine, and_, bindparam, case, func, or_, select, update

from brightrun_gen.domain.models import DIMENSION_NAMES, VARIATION_FILTERS, Dimensions, Turn, variation_value
from brightrun_gen.domain.stored import StoredTurn
from brightrun_gen.domain.vocabulary import BUSY
from brightrun_gen.errors import InputError, NotFound
from brightrun_gen.store import tables as t
from brightrun_gen.store.db import read

# Statuses a reviewer has decided on: a new generation never replaces these as current.
REVIEWED = ("approved",)


@dataclass(frozen=True)
class ConversationRow:
    id: int
    key: str
    dimensions: Dimensions
    status: str
    source: str
    quality_score: float | None
    model: str | None
    current_version: int
    reviewer_notes: str | None
    last_error: str | None
    updated_at: datetime
    failed_at: datetime | None = None  # the last attempt failed (reason: last_error); None after a success

    def as_dict(self) -> dict[str, Any]:
        """Flat, JSON-friendly: id, key, status, source, tier and every dimension."""
        return {
            "id": self.id,
            "key": self.key,
            "status": self.status,
            "source": self.source,
            **self.dimensions.model_dump(),
            "quality_score": self.quality_score,
            "model": self.model,
            "version": self.current_version,
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
            "failed_attempt": None if self.failed_at is None else {
                "at": self.failed_at.isoformat(), "error": self.last_error},
        }


@dataclass(frozen=True)
class ConversationDetail:
    row: ConversationRow
    turns: list[StoredTurn]
    metadata: dict[str, Any]
    quality: dict | None
    versions: list[dict]


@dataclass
class ConversationQuery:
    """What to list: any-of values per dimension (or `variation.*` field), statuses, explicit ids,
    free text on persona."""

    where: dict[str, Sequence[Any]] = field(default_factory=dict)
    statuses: Sequence[str] = ()
    ids: Sequence[int] = ()
    persona_text: str = ""
    limit: int | None = None


def _row(r) -> ConversationRow:
    dims = Dimensions(**{name: r._mapping[name] for name in DIMENSION_NAMES})
    return ConversationRow(
        id=r.id,
        key=r.key,
        dimensions=dims,
        status=r.status,
        source=r.source,
        quality_score=r.quality_score,
        model=r.model,
        current_version=r.current_version,
        reviewer_notes=r.reviewer_notes,
        last_error=r.last_error,
        updated_at=r.updated_at,
        failed_at=r.failed_at,
    )


_LIST_COLUMNS = [t.conversations.c[name] for name in (
    "id", "key", *DIMENSION_NAMES, "status", "source", "quality_score", "model",
    "current_version", "reviewer_notes", "last_error", "updated_at", "failed_at",
)]


def query_conditions(query: ConversationQuery) -> list:
    """The WHERE conditions of a query: the table, the export and the listing select alike."""
    c = t.conversations.c
    conds = []
    for name, values in query.where.items():
        if name in VARIATION_FILTERS:
            field = name.split(".", 1)[1]
            conds.append(_metadata_condition(name, [variation_value(field, v) for v in values]))
            continue
        if name not in DIMENSION_NAMES:
            raise NotFound(f"unknown dimension {name!r}; use one of {', '.join(DIMENSION_NAMES)}")
        if values:
            conds.append(c[name].in_([_tier(v) if name == "tier" else v for v in values]))
    if query.statuses:
        conds.append(c.status.in_(list(query.statuses)))
    if query.ids:
        conds.append(c.id.in_(list(query.ids)))
    if query.persona_text:
        pattern = f"%{query.persona_text.lower()}%"
        persona_names = select(t.personas.c.key).where(
            or_(func.lower(t.personas.c.name).like(pattern), func.lower(t.personas.c.archetype).like(pattern))
        )
        conds.append(or_(func.lower(c.persona).like(pattern), c.persona.in_(persona_names)))
    return conds


def _metadata_condition(key: str, values: Sequence[Any]):
    """Conversations whose metadata `key` holds one of `values` (compared as stored JSON)."""
    m = t.conversation_metadata.c
    # Bound with the column's JSON type, so True is the JSON `true` the column stores, not SQL TRUE.
    typed = [bindparam(None, value, type_=m.value.type) for value in values]
    return t.conversations.c.id.in_(select(m.conversation_id).where(m.key == key, m.value.in_(typed)))


def _tier(value: Any) -> int:
    if not str(value).strip().isdigit():
        raise InputError(f"tier {value!r} is not a number; use 1, 2 or 3")
    return int(value)


def list_conversations(engine: Engine, query: ConversationQuery | None = None) -> list[ConversationRow]:
    query = query or ConversationQuery()
    stmt = select(*_LIST_COLUMNS).where(and_(True, *query_conditions(query))).order_by(t.conversations.c.id)
    if query.limit:
        stmt = stmt.limit(query.limit)
    with read(engine) as conn:
        return [_row(r) for r in conn.execute(stmt)]


def count_by_status(engine: Engine) -> dict[str, int]:
    c = t.conversations.c
    with read(engine) as conn:
        return dict(conn.execute(select(c.status, func.count()).group_by(c.status)).all())


def distinct_values(engine: Engine, column: str) -> list:
    col = t.conversations.c[column]
    with read(engine) as conn:
        return [v for v in conn.scalars(select(col).distinct().order_by(col)) if v is not None]


def find_id(conn: Connection, key_or_id: str | int) -> int:
    c = t.conversations.c
    text = str(key_or_id)
    cond = c.key == text
    if text.isdigit():
        cond = or_(cond, c.id == int(text))
    found = conn.scalar(select(c.id).where(cond).order_by((c.key == text).desc()).limit(1))
    if found is None:
        raise NotFound(f"conversation {text!r} does not exist; `brightrun list` shows the ids")
    return found


def get_row(conn: Connection, conversation_id: int) -> ConversationRow:
    r = conn.execute(select(*_LIST_COLUMNS).where(t.conversations.c.id == conversation_id)).first()
    if r is None:
        raise NotFound(f"conversation {conversation_id} does not exist")
    return _row(r)


def get_detail(engine: Engine, key_or_id: str | int, version: int | None = None) -> ConversationDetail:
    with read(engine) as conn:
        cid = find_id(conn, key_or_id)
        row = get_row(conn, cid)
        wanted = row.current_version if version is None else version
        return ConversationDetail(
            row=row,
            turns=load_turns(conn, cid, wanted),
            metadata=load_metadata(conn, cid),
            quality=conn.scalar(select(t.conversations.c.quality).where(t.conversations.c.id == cid)),
            versions=_versions(conn, cid),
        )


def load_turns(conn: Connection, conversation_id: int, version: int) -> list[StoredTurn]:
    c = t.conversation_turns.c
    stmt = (
        select(c.role, c.content, c.position, c.annotation)
        .where(c.conversation_id == conversation_id, c.version == version)
        .order_by(c.position)
    )
    return [StoredTurn(*r) for r in conn.execute(stmt)]


def load_metadata(conn: Connection, conversation_id: int) -> dict[str, Any]:
    c = t.conversation_metadata.c
    stmt = select(c.key, c.value).where(c.conversation_id == conversation_id).order_by(c.key)
    return {k: v for k, v in conn.execute(stmt)}


def _versions(conn: Connection, conversation_id: int) -> list[dict]:
    c = t.conversation_versions.c
    stmt = select(c.version, c.model, c.template_name, c.template_hash, c.quality_score, c.log_id, c.origin,
                  c.parent_version, c.notes, c.created_at).where(
        c.conversation_id == conversation_id
    ).order_by(c.version)
    return [dict(r._mapping) for r in conn.execute(stmt)]


def insert_conversation(conn: Connection, key: str, dims: Dimensions, *, source: str, status: str) -> int:
    values = {"key": key, **dims.model_dump(), "source": source, "status": status}
    return conn.execute(t.conversations.insert().values(**values).returning(t.conversations.c.id)).scalar_one()


def existing_keys(conn: Connection, keys: Iterable[str]) -> set[str]:
    keys = list(keys)
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        found |= set(conn.scalars(select(t.conversations.c.key).where(t.conversations.c.key.in_(keys[start:start + 500]))))
    return found


_CURRENT_AND_LAST_VERSION = select(
    t.conversations.c.current_version,
    t.conversations.c.status,
    select(func.max(t.conversation_versions.c.version))
    .where(t.conversation_versions.c.conversation_id == t.conversations.c.id)
    .scalar_subquery().label("last"),
).where(t.conversations.c.id == bindparam("cid"))


def save_version(
    conn: Connection,
    conversation_id: int,
    turns: Sequence[Turn],
    *,
    model: str,
    status: str,
    quality: dict | None,
    template_name: str | None = None,
    template_hash: str | None = None,
    log_id: int | None = None,
) -> int:
    """Write turns as a new version; make it current unless the current one is approved."""
    c = t.conversations.c
    current = conn.execute(_CURRENT_AND_LAST_VERSION, {"cid": conversation_id}).one()
    version = max(current.last or 0, current.current_version) + 1
    score = quality["score"] if quality else None
    conn.execute(t.conversation_versions.insert().values(
        conversation_id=conversation_id, version=version, model=model, template_name=template_name,
        template_hash=template_hash, quality_score=score, quality=quality, log_id=log_id,
    ))
    if not turns:
        raise ValueError("a conversation version needs at least one turn")
    conn.execute(t.conversation_turns.insert(), [
        {"conversation_id": conversation_id, "version": version, "position": i, "role": turn.role,
         "content": turn.content, "word_count": len(turn.content.split()), "annotation": turn.annotation}
        for i, turn in enumerate(turns)
    ])
    succeeded = {"last_error": None, "failed_at": None, "prior_status": None}
    if current.status in REVIEWED:
        conn.execute(update(t.conversations).where(c.id == conversation_id).values(**succeeded))
        return version
    conn.execute(update(t.conversations).where(c.id == conversation_id).values(
        current_version=version, status=status, model=model, quality=quality, quality_score=score, **succeeded,
    ))
    return version


def set_turn_annotation(conn: Connection, conversation_id: int, version: int, position: int,
                        annotation: dict | None) -> None:
    """Replace one turn's annotation (e.g. with the judge's scores added: annotations.with_scores)."""
    c = t.conversation_turns.c
    done = conn.execute(update(t.conversation_turns).where(
        c.conversation_id == conversation_id, c.version == version, c.position == position,
    ).values(annotation=annotation))
    if done.rowcount != 1:
        raise NotFound(f"conversation {conversation_id} has no turn {position + 1} in version {version}")


def set_review(conn: Connection, conversation_id: int, status: str, notes: str | None) -> None:
    conn.execute(update(t.conversations).where(t.conversations.c.id == conversation_id).values(
        status=status, reviewer_notes=notes
    ))


def save_metadata(conn: Connection, conversation_id: int, metadata: dict[str, Any]) -> int:
    """Store metadata flattened to dotted keys, so every annotation is a queryable row."""
    rows = [
        {"conversation_id": conversation_id, "key": key, "value": value}
        for key, value in flatten(metadata)
    ]
    if rows:
        conn.execute(t.conversation_metadata.insert(), rows)
    return len(rows)


def flatten(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Nested dicts and lists to (dotted.key, leaf) pairs; leaves stay JSON values.

    A dot or backslash inside a key is escaped with a backslash, so every key survives.
    """
    if isinstance(value, dict) and value:
        for k, v in value.items():
            part = _escape(str(k))
            yield from flatten(v, f"{prefix}.{part}" if prefix else part)
    elif isinstance(value, list) and value and any(isinstance(v, (dict, list)) for v in value):
        for i, v in enumerate(value):
            yield from flatten(v, f"{prefix}.{i}" if prefix else str(i))
    else:
        yield prefix or "value", json.loads(json.dumps(value))


def _escape(key: str) -> str:
    return key.replace("\\", "\\\\").replace(".", "\\.")


def _split(path: str) -> list[str]:
    parts, current, chars = [], [], iter(path)
    for ch in chars:
        if ch == "\\":
            current.append(next(chars, ""))
        elif ch == ".":
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


def unflatten(pairs: dict[str, Any]) -> dict:
    """The inverse of `flatten` for export and display."""
    root: dict = {}
    for key, value in pairs.items():
        node = root
        parts = _split(key)
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return _lists(root)


def _lists(node):
    if not isinstance(node, dict):
        return node
    if node and all(k.isdigit() for k in node) and sorted(map(int, node)) == list(range(len(node))):
        return [_lists(node[str(i)]) for i in range(len(node))]
    return {k: _lists(v) for k, v in node.items()}


def metadata_search(engine: Engine, key: str, value: Any) -> list[int]:
    """Ids of conversations whose metadata `key` equals `value` (queryable annotations)."""
    c = t.conversation_metadata.c
    with read(engine) as conn:
        rows = conn.execute(select(c.conversation_id, c.value).where(c.key == key)).all()
    return sorted({cid for cid, v in rows if v == value})


def file_already_imported(conn: Connection, content_hash: str) -> bool:
    return conn.scalar(select(t.imported_files.c.id).where(t.imported_files.c.content_hash == content_hash)) is not None


def record_imported_file(conn: Connection, name: str, content_hash: str, keys: list[str]) -> None:
    conn.execute(t.imported_files.insert().values(name=name, content_hash=content_hash, conversation_keys=keys))


def mark_failed(conn: Connection, conversation_id: int, reason: str) -> None:
    """Put the failed-attempt marker on the row (its time, and its reason in last_error).

    A row that never had text becomes `failed`. A row that has text stays exactly as it was
    before it was queued: its text, its version and its status, so a reviewer's decision
    (approved, needs edit, rejected) survives a failed regeneration.
    """
    c = t.conversations.c
    resting = case((c.current_version == 0, "failed"),
                   (c.status.in_(BUSY), func.coalesce(c.prior_status, "generated")),
                   else_=c.status)
    conn.execute(update(t.conversations).where(c.id == conversation_id).values(
        status=resting, last_error=reason, failed_at=t.utcnow(), prior_status=None))
