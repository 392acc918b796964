"""Reading conversations for export: batches of whole conversations in a few queries each.

An export reads inside one snapshot (`export_snapshot`), so every batch sees the store as it
was when the export began, even while a worker keeps writing new versions.
"""

from __future__ import annotations

from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator, Sequence

from sqlalchemy import Connection, Engine, and_, func, null, or_, select

from brightrun_gen.domain.exportformats import PARTS, ExportConversation, Generation
from brightrun_gen.domain.models import DIMENSION_NAMES, Advisor, Catalog, Dimensions
from brightrun_gen.domain.stored import ReviewEvent, StoredTurn
from brightrun_gen.domain.pricing import Usage
from brightrun_gen.errors import NotFound
from brightrun_gen.store import catalog_repo, knowledge, tables as t
from brightrun_gen.store.conversations import ConversationQuery, query_conditions, unflatten
from brightrun_gen.store.db import read
from brightrun_gen.store.reviews import EVENT_COLUMNS

# Big enough that a batch costs a handful of round trips, small enough that a batch of long
# conversations stays a few MB.
BATCH_SIZE = 500

_c = t.conversations.c
_v = t.conversation_versions.c
_turn = t.conversation_turns.c


@dataclass(frozen=True)
class Selected:
    """What choosing files and splits needs of a conversation, before its content is read."""

    id: int
    key: str
    tier: int
    model: str | None
    current_version: int  # 0: never written, nothing to export


def select_conversations(engine: Engine, query: ConversationQuery) -> list[Selected]:
    """The conversations a query matches, in id order: four columns, no models to build.

    The very conditions `list_conversations` applies, so an export selects what the table shows.
    """
    stmt = select(_c.id, _c.key, _c.tier, _c.model, _c.current_version).where(and_(True, *query_conditions(query))).order_by(_c.id)
    with read(engine) as conn:
        return [Selected(*row) for row in conn.execute(stmt).all()]


def resolve_ids(engine: Engine, refs: Sequence[int | str]) -> list[int]:
    """Ids for numeric ids or keys, in the order given; an unknown one is an error."""
    texts = [str(ref) for ref in refs]
    numbers = [int(text) for text in texts if text.isdigit()]
    with read(engine) as conn:
        rows = conn.execute(select(_c.id, _c.key).where(or_(_c.key.in_(texts), _c.id.in_(numbers)))).all()
    by_key = {key: cid for cid, key in rows}
    by_id = {cid for cid, _ in rows}
    ids = []
    for text in texts:
        found = by_key.get(text)  # a key wins over an id that happens to read the same
        if found is None and text.isdigit() and int(text) in by_id:
            found = int(text)
        if found is None:
            raise NotFound(f"conversation {text!r} does not exist; `brightrun list` shows the ids")
        ids.append(found)
    return ids


class ExportSnapshot:
    """The store as of one moment, read in batches for an export."""

    def __init__(self, conn: Connection):
        self._conn = conn

    def advisor(self) -> Advisor | None:
        data = self._conn.scalar(select(t.advisor_profiles.c.data).order_by(t.advisor_profiles.c.id).limit(1))
        return Advisor.model_validate(data) if data is not None else None

    def catalog(self) -> Catalog | None:
        """The catalog as stored, or None before `brightrun init`."""
        return catalog_repo.catalog_in(self._conn)

    def persona_labels(self) -> dict[str, str]:
        """'marcus_thompson' -> 'Marcus Thompson - The Overwhelmed Avoider', as console files label clients."""
        return catalog_repo.persona_labels(self._conn)

    def turn_counts(self, ids: Sequence[int]) -> dict[int, int]:
        """Turns of each conversation's current version."""
        counts: dict[int, int] = {}
        for batch in _batches(ids, BATCH_SIZE):
            stmt = select(_turn.conversation_id, func.count()).select_from(_current_turns()).where(
                _turn.conversation_id.in_(batch)).group_by(_turn.conversation_id)
            counts.update(self._conn.execute(stmt).all())
        return counts

    def conversations(self, ids: Sequence[int], batch_size: int = BATCH_SIZE,
                      parts: frozenset[str] = PARTS) -> Iterator[ExportConversation]:
        """The conversations in the order of `ids`: up to five queries per batch.

        `parts` (of PARTS) says what to read beyond the row and the turns; what is not read is
        left empty (no metadata, no quality breakdown, no usage, no review events).
        """
        for batch in _batches(ids, batch_size):
            yield from self._batch(batch, parts)

    def _batch(self, ids: list[int], parts: frozenset[str]) -> list[ExportConversation]:
        heads = {r.id: r for r in self._conn.execute(_head_query(ids, "quality" in parts)).all()}
        turns = self._turns(ids, "annotations" in parts)
        metadata = self._metadata(ids) if "metadata" in parts else {}
        usage = self._usage(ids) if "usage" in parts else {}
        events = self._events(ids) if "reviews" in parts else {}
        sources = knowledge.sources(self._conn, ids, {cid: head.current_version for cid, head in heads.items()}) \
            if "sources" in parts else {}
        judged = self._judgements(ids) if "judgement" in parts else {}
        return [
            _conversation(heads[cid], turns.get(cid, ()), metadata.get(cid, {}), usage.get(cid, Usage()),
                          events.get(cid, ()), tuple(sources.get(cid, ())), judged.get(cid))
            for cid in ids if cid in heads
        ]

    def _turns(self, ids: list[int], annotations: bool) -> dict[int, tuple[StoredTurn, ...]]:
        # The annotation is JSON to decode for every turn: only when the format writes it.
        annotation = _turn.annotation if annotations else null().label("annotation")
        stmt = select(_turn.conversation_id, _turn.role, _turn.content, _turn.position, annotation).select_from(
            _current_turns()).where(_turn.conversation_id.in_(ids)).order_by(
            _turn.conversation_id, _turn.version, _turn.position)
        found: dict[int, list[StoredTurn]] = defaultdict(list)
        # fetchall: one driver call per batch instead of one per row.
        for cid, role, content, position, notes in self._conn.execute(stmt).all():
            found[cid].append(StoredTurn(role, content, position, notes))
        return {cid: tuple(turns) for cid, turns in found.items()}

    def _metadata(self, ids: list[int]) -> dict[int, dict]:
        m = t.conversation_metadata.c
        stmt = select(m.conversation_id, m.key, m.value).where(m.conversation_id.in_(ids)).order_by(
            m.conversation_id, m.key)
        flat: dict[int, dict] = defaultdict(dict)
        for cid, key, value in self._conn.execute(stmt).all():
            flat[cid][key] = value
        return {cid: unflatten(pairs) for cid, pairs in flat.items()}

    def _usage(self, ids: list[int]) -> dict[int, Usage]:
        g = t.generation_logs.c
        stmt = select(g.conversation_id, func.count(), func.sum(g.input_tokens), func.sum(g.output_tokens),
                      func.sum(g.cost_usd)).where(g.conversation_id.in_(ids)).group_by(g.conversation_id)
        return {cid: Usage(int(tokens_in or 0), int(tokens_out or 0), cost_usd=float(cost or 0), calls=calls)
                for cid, calls, tokens_in, tokens_out, cost in self._conn.execute(stmt)}

    def _events(self, ids: list[int]) -> dict[int, tuple[ReviewEvent, ...]]:
        e = t.review_events.c
        stmt = select(e.conversation_id, *EVENT_COLUMNS).where(e.conversation_id.in_(ids)).order_by(
            e.conversation_id, e.id)
        found: dict[int, list[ReviewEvent]] = defaultdict(list)
        for cid, *event in self._conn.execute(stmt).all():
            found[cid].append(ReviewEvent(*event))
        return {cid: tuple(events) for cid, events in found.items()}


    def _judgements(self, ids: list[int]) -> dict[int, dict]:
        """The judgement of each conversation's current version."""
        j = t.judgements.c
        stmt = select(j.conversation_id, j.rubric_hash, j.provider, j.model, j.score, j.passed, j.flagged,
                      j.flag_reason, j.reasons, j.criteria, j.turn_scores, j.summary).join(
            t.conversations, and_(_c.id == j.conversation_id, _c.current_version == j.version)).where(
            j.conversation_id.in_(ids))
        found = {}
        for r in self._conn.execute(stmt).all():
            m = dict(r._mapping)
            cid = m.pop("conversation_id")
            m["criteria"] = [{k: c.get(k) for k in ("name", "score", "evidence", "suggestion")} for c in m["criteria"]]
            m["turns"] = m.pop("turn_scores")
            found[cid] = m
        return found


@contextmanager
def export_snapshot(engine: Engine) -> Iterator[ExportSnapshot]:
    """One read transaction for a whole export.

    SQLite in WAL mode keeps one snapshot per read transaction already; PostgreSQL needs
    REPEATABLE READ for every statement to see the same one.
    """
    with read(engine) as conn:
        if conn.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        yield ExportSnapshot(conn)


def _current_turns():
    return t.conversation_turns.join(
        t.conversations, and_(_c.id == _turn.conversation_id, _c.current_version == _turn.version))


def _head_query(ids: list[int], with_quality: bool):
    dims = [_c[name] for name in DIMENSION_NAMES]
    current = and_(_v.conversation_id == _c.id, _v.version == _c.current_version)
    # The breakdown is JSON to decode for every row: only when the format writes it.
    quality = _c.quality if with_quality else null().label("quality")
    return select(
        _c.id, _c.key, _c.source, _c.status, quality, _c.quality_score, _c.reviewer_notes,
        _c.current_version, _c.model, *dims, _v.model.label("version_model"), _v.template_name,
        _v.template_hash, _v.log_id,
    ).outerjoin(t.conversation_versions, current).where(_c.id.in_(ids))


def _conversation(head, turns, metadata, usage, events, sources=(), judgement=None) -> ExportConversation:
    columns = head._mapping  # built on each access: take it once
    # The columns are typed and NOT NULL, so the values are valid Dimensions as stored.
    dimensions = Dimensions.model_construct(**{name: columns[name] for name in DIMENSION_NAMES})
    return ExportConversation(
        id=head.id,
        key=head.key,
        source=head.source,
        status=head.status,
        dimensions=dimensions,
        turns=turns,
        metadata=metadata,
        quality=head.quality,
        quality_score=head.quality_score,
        reviewer_notes=head.reviewer_notes,
        generation=Generation(
            version=head.current_version,
            model=head.version_model or head.model,
            template_name=head.template_name,
            template_hash=head.template_hash,
            log_id=head.log_id,
        ),
        usage=usage,
        review_events=events,
        sources=sources,
        judgement=judgement,
    )


def _batches(ids: Sequence[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield list(ids[start:start + size])
