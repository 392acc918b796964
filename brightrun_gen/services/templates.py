"""Prompt templates: loading their files into the store, their versions, and which versions are active."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from brightrun_gen.domain.prompts import PromptTemplate, is_template, parse_template
from brightrun_gen.errors import TemplateError
from brightrun_gen.store import templates as template_store
from brightrun_gen.store.db import write
from brightrun_gen.store.templates import FULL_SHARE, TemplateVersion


def read_templates(directory: Path) -> list[PromptTemplate]:
    """The tier templates of `directory`; the other YAML files are parts they may include."""
    texts = {p.name: p.read_text(encoding="utf-8") for p in sorted(directory.glob("*.yaml"))}
    templates = [parse_template(text, name, texts) for name, text in texts.items() if is_template(text)]
    if not templates:
        raise TemplateError(f"no prompt templates (*.yaml with a tier) in {directory}")
    return templates


def sync_templates(engine: Engine, directory: Path) -> int:
    """Store templates whose content changed; returns how many new versions were stored."""
    templates = read_templates(directory)
    with write(engine) as conn:
        return sum(template_store.save_template(conn, tpl) for tpl in templates)


def versions(engine: Engine) -> list[TemplateVersion]:
    """Every stored version of every template, with its number, activity, share and use."""
    return template_store.list_versions(engine)


def version_labels(engine: Engine) -> dict[tuple[str, str], str]:
    """(template name, content hash) -> 'tier1_arc v2 · 3f9a1c', to tell versions apart in logs and pages."""
    return {(v.name, v.content_hash): v.label for v in versions(engine)}


def label_of(labels: dict[tuple[str, str], str], name: str | None, content_hash: str | None) -> str:
    return labels.get((name or "", content_hash or ""), name or "—")


def activate(engine: Engine, template_id: int, *, share: int = FULL_SHARE, only: bool = True) -> str:
    """Make a version active: alone in its tier, or next to the active ones with `share` of new rows."""
    with write(engine) as conn:
        template_store.set_activation(conn, template_id, active=True, share=share, only=only)
    found = next(v for v in versions(engine) if v.id == template_id)
    if only:
        return f"{found.label} is now the only active version of tier {found.tier}."
    return f"{found.label} is active with a share of {share} (new rows are split by the active versions' shares)."


def deactivate(engine: Engine, template_id: int) -> str:
    with write(engine) as conn:
        template_store.set_activation(conn, template_id, active=False)
    found = next(v for v in versions(engine) if v.id == template_id)
    return f"{found.label} is no longer active; new rows of tier {found.tier} use the other active versions."
