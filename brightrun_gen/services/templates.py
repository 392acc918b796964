"""Loading the prompt template files into the store."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from brightrun_gen.domain.prompts import PromptTemplate, is_template, parse_template
from brightrun_gen.errors import TemplateError
from brightrun_gen.store import templates as template_store
from brightrun_gen.store.db import write


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
