"""Loading the prompt template files into the store."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from brightrun_gen.domain.prompts import PromptTemplate, parse_template
from brightrun_gen.domain.rubric import RUBRIC_FILE
from brightrun_gen.errors import TemplateError
from brightrun_gen.store import templates as template_store
from brightrun_gen.store.db import write


def read_templates(directory: Path) -> list[PromptTemplate]:
    files = sorted(p for p in directory.glob("*.yaml") if p.name != RUBRIC_FILE)  # the judge's rubric is no template
    if not files:
        raise TemplateError(f"no prompt templates (*.yaml) in {directory}")
    return [parse_template(p.read_text(encoding="utf-8"), p.name) for p in files]


def sync_templates(engine: Engine, directory: Path) -> int:
    """Store templates whose content changed; returns how many new versions were stored."""
    templates = read_templates(directory)
    with write(engine) as conn:
        return sum(template_store.save_template(conn, tpl) for tpl in templates)
