"""Prompt templates in the store: each content version kept; one or more active per tier, with shares."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, func, select, update

from brightrun_gen.domain.prompts import PromptTemplate
from brightrun_gen.errors import InputError, NotFound
from brightrun_gen.store import tables as t
from brightrun_gen.store.db import read

FULL_SHARE = 100


@dataclass(frozen=True)
class TemplateVersion:
    """One stored version of a template, numbered per name in the order it was stored."""

    id: int
    name: str
    tier: int
    version: int
    content_hash: str
    active: bool
    share: int
    placeholders: list
    body: str
    stored_at: datetime
    conversations: int  # conversation versions written with it

    @property
    def label(self) -> str:
        """'tier1_arc v2 · 3f9a1c': how the log, the review page and the catalog name it."""
        return version_label(self.name, self.version, self.content_hash)


def version_label(name: str, version: int, content_hash: str) -> str:
    return f"{name} v{version} · {content_hash[:6]}"


def save_template(conn: Connection, template: PromptTemplate) -> bool:
    """Store a new content version and make it the only active one of its name; False when already stored."""
    c = t.prompt_templates.c
    known = conn.scalar(select(c.id).where(c.name == template.name, c.content_hash == template.content_hash))
    if known:
        return False
    conn.execute(update(t.prompt_templates).where(c.name == template.name).values(active=False))
    conn.execute(t.prompt_templates.insert().values(
        name=template.name, tier=template.tier, body=template.body, placeholders=template.placeholders,
        response_schema={"sections": {s: getattr(template, s) for s in ("system", "context", "request")},
                         "description": template.description, "schema": template.response_schema()},
        active=True, content_hash=template.content_hash, share=FULL_SHARE,
    ))
    return True


def _from_row(row) -> PromptTemplate:
    stored = row.response_schema
    return PromptTemplate(name=row.name, tier=row.tier, description=stored["description"],
                          content_hash=row.content_hash, **stored["sections"])


def active_templates(conn: Connection, tier: int) -> list[tuple[PromptTemplate, int]]:
    """Every active version of a tier with its share, oldest first."""
    c = t.prompt_templates.c
    rows = conn.execute(select(t.prompt_templates).where(c.tier == tier, c.active.is_(True)).order_by(c.id)).all()
    if not rows:
        raise NotFound(f"no active prompt template for tier {tier}: run `brightrun init`")
    return [(_from_row(row), row.share) for row in rows]


def list_versions(engine: Engine) -> list[TemplateVersion]:
    """Every stored version, by tier and name, oldest first, with how many conversations each wrote."""
    c, v = t.prompt_templates.c, t.conversation_versions.c
    written = (select(func.count()).where(v.template_name == c.name, v.template_hash == c.content_hash)
               .scalar_subquery())
    number = func.row_number().over(partition_by=c.name, order_by=c.id)
    stmt = select(c.id, c.name, c.tier, number, c.content_hash, c.active, c.share, c.placeholders, c.body,
                  c.created_at, written).order_by(c.tier, c.name, c.id)
    with read(engine) as conn:
        return [TemplateVersion(*row) for row in conn.execute(stmt)]


def set_activation(conn: Connection, template_id: int, *, active: bool, share: int = FULL_SHARE,
                   only: bool = False) -> str:
    """Activate a version (alone in its tier, or next to the others with a share of new rows), or
    deactivate it; a tier always keeps one active version."""
    c = t.prompt_templates.c
    row = conn.execute(select(c.id, c.tier, c.name).where(c.id == template_id).with_for_update()).first()
    if row is None:
        raise NotFound(f"prompt template version {template_id} does not exist")
    if not 1 <= share <= FULL_SHARE:
        raise InputError(f"a template version's share is {share}; use a whole number from 1 to {FULL_SHARE}")
    others = conn.scalar(select(func.count()).where(c.tier == row.tier, c.active.is_(True), c.id != row.id))
    if not active and not others:
        raise InputError(f"{row.name} (tier {row.tier}) needs one active version: activate another version first")
    if active and only:
        conn.execute(update(t.prompt_templates).where(c.tier == row.tier, c.id != row.id).values(active=False))
        share = FULL_SHARE
    conn.execute(update(t.prompt_templates).where(c.id == row.id).values(active=active, share=share))
    return row.name
