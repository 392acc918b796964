"""Catalog tables: write the catalog once (idempotently) and read it back as models."""

from __future__ import annotations

from sqlalchemy import Connection, Engine, func, select, update

from brightrun_gen.domain.models import Advisor, Catalog, Persona, persona_label
from brightrun_gen.errors import InputError
from brightrun_gen.store import tables as t
from brightrun_gen.store.db import read

_VOCAB = {"intents": "intent", "tones": "tone", "outcome_types": "outcome_type", "openings": "opening",
          "channels": "channel", "verbosity": "verbosity"}


def _extra_columns(section: str, entry) -> dict:
    if section == "personas":
        return {"name": entry.name, "archetype": entry.archetype}
    if section == "emotions":
        return {"name": entry.name, "family": entry.family, "valence": entry.valence, "intensity": entry.intensity}
    if section == "topics":
        return {"name": entry.name, "content_category": entry.content_category, "topic_cluster": entry.topic_cluster}
    return {"name": getattr(entry, "name", None) or getattr(entry, "title")}


_TABLES = {
    "personas": t.personas,
    "emotions": t.emotions,
    "arcs": t.emotional_arcs,
    "topics": t.topics,
    "scenarios": t.scenarios,
    "edge_cases": t.edge_cases,
}


def save_catalog(conn: Connection, catalog: Catalog) -> int:
    """Insert new entries and update changed ones (the files are the source); returns how many.

    Entries the files do not name (personas an import created) are left as they are.
    """
    changed = _upsert(conn, t.advisor_profiles, [("advisor", {"name": catalog.advisor.name},
                                                   catalog.advisor.model_dump())])
    for section, table in _TABLES.items():
        entries = getattr(catalog, section)
        changed += _upsert(conn, table, [(e.key, _extra_columns(section, e), e.model_dump()) for e in entries])
    for section, kind in _VOCAB.items():
        c = t.vocabulary.c
        have = {r.key: (r.name, r.description) for r in conn.execute(
            select(c.key, c.name, c.description).where(c.kind == kind))}
        rows = [{"kind": kind, **e.model_dump()} for e in getattr(catalog, section) if e.key not in have]
        if rows:
            conn.execute(t.vocabulary.insert(), rows)
        for e in getattr(catalog, section):
            if e.key in have and have[e.key] != (e.name, e.description):
                conn.execute(update(t.vocabulary).where(c.kind == kind, c.key == e.key).values(
                    name=e.name, description=e.description))
                changed += 1
        changed += len(rows)
    return changed


def _upsert(conn: Connection, table, entries: list[tuple[str, dict, dict]]) -> int:
    have = {r.key: r.data for r in conn.execute(select(table.c.key, table.c.data))}
    changed = _insert_missing(conn, table, entries, set(have))
    for key, columns, data in entries:
        if key in have and have[key] != data:
            conn.execute(update(table).where(table.c.key == key).values(**columns, data=data))
            changed += 1
    return changed


def _insert_missing(conn: Connection, table, entries: list[tuple[str, dict, dict]], have: set[str] | None = None) -> int:
    if have is None:
        have = set(conn.scalars(select(table.c.key)))
    rows = [{"key": key, **columns, "data": data} for key, columns, data in entries if key not in have]
    if rows:
        conn.execute(table.insert(), rows)
    return len(rows)


def ensure_persona(conn: Connection, persona: Persona) -> bool:
    """Create a persona that an imported file brings, unless its key exists; True if created."""
    return _insert_missing(conn, t.personas, [(persona.key, _extra_columns("personas", persona),
                                               persona.model_dump())]) == 1


def load_catalog(engine: Engine) -> Catalog:
    """The catalog as stored (file catalog plus personas that imports created)."""
    with read(engine) as conn:
        catalog = catalog_in(conn)
    if catalog is None:
        raise InputError("the store has no catalog yet: run `brightrun init` first")
    return catalog


def catalog_in(conn: Connection) -> Catalog | None:
    """The catalog as this connection sees it; None before `brightrun init`."""
    data = {section: list(conn.scalars(select(table.c.data).order_by(table.c.id)))
            for section, table in _TABLES.items()}
    advisor = conn.scalar(select(t.advisor_profiles.c.data).order_by(t.advisor_profiles.c.id).limit(1))
    for section, kind in _VOCAB.items():
        c = t.vocabulary.c
        data[section] = [dict(r._mapping) for r in conn.execute(
            select(c.key, c.name, c.description).where(c.kind == kind).order_by(c.id))]
    if advisor is None:
        return None
    return Catalog.model_validate({"advisor": Advisor.model_validate(advisor), **data})


def list_section(engine: Engine, section: str) -> list[dict]:
    """Catalog entries of one section as plain dicts, for display."""
    if section in _VOCAB:
        c = t.vocabulary.c
        with read(engine) as conn:
            return [dict(r._mapping) for r in conn.execute(
                select(c.key, c.name, c.description).where(c.kind == _VOCAB[section]).order_by(c.id))]
    table = _TABLES[section]
    with read(engine) as conn:
        return list(conn.scalars(select(table.c.data).order_by(table.c.id)))


def topic_terms(conn: Connection, topic_key: str) -> list[str]:
    """What the topic rule looks for: the topic's name (or its key in words)."""
    topic = conn.scalar(select(t.topics.c.name).where(t.topics.c.key == topic_key))
    return [topic or topic_key.replace("_", " ")]


def persona_labels(conn: Connection) -> dict[str, str]:
    """Every persona's key -> its label ('Marcus Thompson - The Overwhelmed Avoider')."""
    p = t.personas.c
    return {key: persona_label(name, archetype)
            for key, name, archetype in conn.execute(select(p.key, p.name, p.archetype).order_by(p.id))}


def _fingerprint_query():
    parts = []
    for table in (*_TABLES.values(), t.advisor_profiles, t.vocabulary, t.prompt_templates, t.voice_profiles):
        parts += [select(func.count()).select_from(table).scalar_subquery(),
                  select(func.max(table.c.updated_at)).scalar_subquery()]
    c = t.conversations.c
    # Examples: seeds and imports, and approved conversations (an opt-in part of the pool).
    for examples in (c.status == "seed", c.status == "approved"):
        parts += [select(func.count()).where(examples).scalar_subquery(),
                  select(func.max(c.updated_at)).where(examples).scalar_subquery()]
    return select(*parts)


# Built once: constructing twenty-odd subqueries per call cost more than running them.
_FINGERPRINT = _fingerprint_query()


def fingerprint(conn: Connection) -> tuple:
    """Changes whenever the catalog, the templates, the voice or the example pool change: a cache key."""
    return tuple(conn.execute(_FINGERPRINT).one())
