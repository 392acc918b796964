"""Prompt templates: parse a template file, render it with a row's parameters as data."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from string import Template

import yaml

from brightrun_gen.domain.models import GeneratedConversation
from brightrun_gen.errors import TemplateError

SECTIONS = ("system", "context", "request")
_WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class PromptTemplate:
    name: str
    tier: int
    description: str
    system: str
    context: str
    request: str
    content_hash: str

    @property
    def placeholders(self) -> list[str]:
        found: list[str] = []
        for section in SECTIONS:
            for name in Template(getattr(self, section)).get_identifiers():
                if name not in found:
                    found.append(name)
        return found

    @property
    def body(self) -> str:
        return "\n".join(f"## {s}\n{getattr(self, s)}" for s in SECTIONS)

    @staticmethod
    def response_schema() -> dict:
        return GeneratedConversation.model_json_schema()


@dataclass(frozen=True)
class RenderedPrompt:
    """What goes to the model: `system` and `context` are static per persona/arc (cacheable)."""

    template: str
    template_hash: str
    system: str
    context: str
    request: str
    parameters: dict[str, str]


def parse_template(text: str, source: str) -> PromptTemplate:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise TemplateError(f"prompt template {source}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise TemplateError(f"prompt template {source}: expected a mapping at the top level")
    missing = [k for k in ("name", "tier", *SECTIONS) if k not in data]
    if missing:
        raise TemplateError(f"prompt template {source}: missing field {missing[0]!r}")
    for section in SECTIONS:
        if not Template(data[section]).is_valid():
            raise TemplateError(f"prompt template {source}: section {section!r} has a malformed placeholder")
    return PromptTemplate(
        name=str(data["name"]),
        tier=int(data["tier"]),
        description=str(data.get("description", "")),
        system=data["system"],
        context=data["context"],
        request=data["request"],
        content_hash=hashlib.sha256(text.encode("utf-8")).hexdigest(),
    )


def as_data(value) -> str:
    """A parameter as inert data: structures as JSON, text on one line.

    Collapsing whitespace keeps a value from opening a new line or section of the prompt;
    string.Template substitutes once, so `${x}` inside a value stays literal text.
    """
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return _WHITESPACE.sub(" ", str(value)).strip()


def render(template: PromptTemplate, values: dict) -> RenderedPrompt:
    """Fill every placeholder; a missing or empty parameter is an error before any API call."""
    missing = [name for name in template.placeholders if name not in values]
    if missing:
        raise TemplateError(f"prompt template {template.name}: no value for placeholder ${{{missing[0]}}}")
    data = {name: as_data(values[name]) for name in template.placeholders}
    empty = [name for name, value in data.items() if value in ("", "null", "None", "[]", "{}")]
    if empty:
        raise TemplateError(f"prompt template {template.name}: placeholder ${{{empty[0]}}} has no value")
    sections = {s: Template(getattr(template, s)).substitute(data) for s in SECTIONS}
    return RenderedPrompt(template.name, template.content_hash, parameters=data, **sections)


def prompt_values(dims, catalog, examples: list[list[dict]]) -> dict:
    """Every placeholder value for one planned row, from the catalog entries it names.

    `examples` are earlier conversations of the same tier (lists of {role, content}).
    """
    persona = _by_key(catalog.personas, dims.persona, "persona")
    topic = _by_key(catalog.topics, dims.topic, "topic")
    advisor = catalog.advisor
    values = {
        "advisor_name": advisor.name,
        "advisor_profile": advisor.model_dump(),
        "turn_rule": "Write 10 to 14 turns in total.",
        "persona_name": persona.name,
        "persona_archetype": persona.archetype,
        "persona_profile": persona.model_dump(exclude={"key"}),
        "topic": topic.name,
        "content_category": dims.content_category,
        "topic_cluster": dims.topic_cluster,
        "emotion_start": dims.emotion_start,
        "emotion_end": dims.emotion_end,
        "intent": dims.intent,
        "tone": dims.tone,
        "outcome_type": dims.outcome_type,
        "tier": dims.tier,
        "examples": examples or [{"note": "no example conversations of this tier yet"}],
    }
    if dims.arc:
        arc = _by_key(catalog.arcs, dims.arc, "arc")
        values.update(arc_name=arc.name, arc_definition=arc.model_dump(exclude={"key"}))
    if dims.scenario:
        scenario = _by_key(catalog.scenarios, dims.scenario, "scenario")
        values.update(scenario=scenario.model_dump(exclude={"key"}), scenario_title=scenario.title)
    if dims.edge_case:
        edge = _by_key(catalog.edge_cases, dims.edge_case, "edge case")
        values.update(edge_case=edge.model_dump(exclude={"key"}), edge_case_title=edge.title)
    return values


def _by_key(entries, key: str, what: str):
    for entry in entries:
        if entry.key == key:
            return entry
    raise TemplateError(f"{what} {key!r} is not in the catalog")
