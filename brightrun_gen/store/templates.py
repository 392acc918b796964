"""Prompt templates in the store: each content version kept, one active per name."""

from __future__ import annotations

from sqlalchemy import Connection, Engine, select, update

from brightrun_gen.domain.prompts import PromptTemplate
from brightrun_gen.errors import NotFound
from brightrun_gen.store import tables as t
from brightrun_gen.store.db import read


def save_template(conn: Connection, template: PromptTemplate) -> bool:
    """Store a new content version and make it the active one; False when already stored."""
    c = t.prompt_templates.c
    known = conn.scalar(select(c.id).where(c.name == template.name, c.content_hash == template.content_hash))
    if known:
        return False
    conn.execute(update(t.prompt_templates).where(c.name == template.name).values(active=False))
    conn.execute(t.prompt_templates.insert().values(
        name=template.name, tier=template.tier, body=template.body, placeholders=template.placeholders,
        response_schema={"sections": {s: getattr(template, s) for s in ("system", "context", "request")},
                         "description": template.description, "schema": template.response_schema()},
        active=True, content_hash=template.content_hash,
    ))
    return True


def _from_row(row) -> PromptTemplate:
    stored = row.response_schema
    return PromptTemplate(name=row.name, tier=row.tier, description=stored["description"],
                          content_hash=row.content_hash, **stored["sections"])


def active_template(conn: Connection, tier: int) -> PromptTemplate:
    c = t.prompt_templates.c
    row = conn.execute(select(t.prompt_templates).where(c.tier == tier, c.active.is_(True)).order_by(c.id.desc())).first()
    if row is None:
        raise NotFound(f"no active prompt template for tier {tier}: run `brightrun init`")
    return _from_row(row)


def list_templates(engine: Engine) -> list[dict]:
    c = t.prompt_templates.c
    with read(engine) as conn:
        rows = conn.execute(select(c.name, c.tier, c.active, c.content_hash, c.placeholders, c.body, c.updated_at)
                            .order_by(c.tier, c.name, c.id)).all()
    return [dict(r._mapping) for r in rows]
