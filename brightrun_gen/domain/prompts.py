"""Prompt templates: parse a template (and the shared part it includes), render it with data.

A prompt has three sections, sent in this order: `system` (the shared part: rules, advisor, voice,
beat-sheet conventions; the same for every row, so the prompt cache serves it), `context` (the
example conversations, shared by every row that gets the same examples) and `request` (the row's
own part, last). Every value is inserted as inert data: text on one line, structures as JSON, and
lists as one line per item, so no value can open a line, a section or a placeholder of its own.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from string import Template
from typing import Mapping, Sequence

import yaml

from brightrun_gen.domain.models import GeneratedConversation
from brightrun_gen.errors import TemplateError

SECTIONS = ("system", "context", "request")
# The API caches a prefix only from this many tokens on (Sonnet and Opus models).
MIN_CACHEABLE_TOKENS = 1024
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
class Lines:
    """A list rendered one item per line ("- item"), each item as inert data.

    The number of lines is the number of items, which the code chooses; an item's own line
    breaks are collapsed like any other value's.
    """

    items: tuple

    def __init__(self, items: Sequence):
        object.__setattr__(self, "items", tuple(items))


@dataclass(frozen=True)
class RenderedPrompt:
    """What goes to the model, and what it was made from."""

    template: str
    template_hash: str
    system: str
    context: str
    request: str
    parameters: dict[str, str]
    examples: tuple[str, ...] = ()  # keys of the example conversations in `context`
    extra_blocks: tuple[str, ...] = field(default=())  # titles of the data blocks added to `request`


def parse_template(text: str, source: str, parts: Mapping[str, str] | None = None) -> PromptTemplate:
    """A template file; `parts` are the texts of the files it may include, by file name.

    `include: shared.yaml` puts that file's `system` and `context` first in this template's
    sections, so what every tier shares is written once. The content hash covers the included
    text too, so editing the shared file makes a new version of every template.
    """
    data = _mapping(text, source)
    shared, digest_parts = {}, [text]
    if "include" in data:
        name = str(data["include"])
        if name not in (parts or {}):
            raise TemplateError(f"prompt template {source}: include {name!r} is not a file in the prompts folder")
        shared, digest_parts = _mapping(parts[name], name), [text, parts[name]]
    sections = {"request": data.get("request")}
    for section in ("system", "context"):
        texts = [t for t in (shared.get(section), data.get(section)) if isinstance(t, str) and t.strip()]
        sections[section] = "\n".join(t.rstrip("\n") for t in texts) + "\n" if texts else None
    missing = [k for k in ("name", "tier") if k not in data] + [k for k in SECTIONS if not sections[k]]
    if missing:
        raise TemplateError(f"prompt template {source}: missing field {missing[0]!r}")
    for section, body in sections.items():
        if not Template(body).is_valid():
            raise TemplateError(f"prompt template {source}: section {section!r} has a malformed placeholder")
    return PromptTemplate(
        name=str(data["name"]),
        tier=int(data["tier"]),
        description=str(data.get("description", "")),
        content_hash=hashlib.sha256("\0".join(digest_parts).encode("utf-8")).hexdigest(),
        system=sections["system"], context=sections["context"], request=sections["request"],
    )


def is_template(text: str) -> bool:
    """Whether a prompts/ file is a tier template (it has a tier) rather than a part to include."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return True  # parse_template reports it
    return not isinstance(data, dict) or "tier" in data


def _mapping(text: str, source: str) -> dict:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise TemplateError(f"prompt template {source}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise TemplateError(f"prompt template {source}: expected a mapping at the top level")
    return data


def as_data(value) -> str:
    """A parameter as inert data: structures as JSON, text on one line, lists one item a line.

    Collapsing whitespace keeps a value from opening a new line or section of the prompt;
    string.Template substitutes once, so `${x}` inside a value stays literal text.
    """
    if isinstance(value, Lines):
        return "\n".join(f"- {as_data(item)}" for item in value.items)
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return _WHITESPACE.sub(" ", str(value)).strip()


def render(template: PromptTemplate, values: dict, *, examples: Sequence[str] = (),
           extra_blocks: Sequence[tuple[str, str]] = ()) -> RenderedPrompt:
    """Fill every placeholder; a missing or empty parameter is an error before any API call.

    `extra_blocks` are (title, text) pairs added at the end of the row's own part as
    "title (data): text" lines: firm knowledge, phrases to avoid, repair notes.
    """
    missing = [name for name in template.placeholders if name not in values]
    if missing:
        raise TemplateError(f"prompt template {template.name}: no value for placeholder ${{{missing[0]}}}")
    data = {name: as_data(values[name]) for name in template.placeholders}
    empty = [name for name, value in data.items() if value in ("", "null", "None", "[]", "{}")]
    if empty:
        raise TemplateError(f"prompt template {template.name}: placeholder ${{{empty[0]}}} has no value")
    sections = {s: Template(getattr(template, s)).substitute(data) for s in SECTIONS}
    blocks = [(as_data(title), as_data(text)) for title, text in extra_blocks if as_data(text)]
    if blocks:
        sections["request"] = sections["request"].rstrip("\n") + "\n\n" + "\n".join(
            f"{title} (data): {text}" for title, text in blocks) + "\n"
    return RenderedPrompt(template.name, template.content_hash, parameters=data, examples=tuple(examples),
                          extra_blocks=tuple(title for title, _ in blocks), **sections)


def estimate_tokens(text: str) -> int:
    """About four characters a token: the estimate the offline provider and the test API use too."""
    return math.ceil(len(text) / 4)


@dataclass(frozen=True)
class PromptSize:
    """Estimated tokens per section, and how much of the prompt a cache can serve."""

    system: int
    context: int
    request: int

    @property
    def total(self) -> int:
        return self.system + self.context + self.request

    @property
    def cacheable(self) -> int:
        """Tokens up to the last breakpoint, if that prefix is long enough for the API to cache."""
        prefix = self.system + self.context
        if prefix >= MIN_CACHEABLE_TOKENS:
            return prefix
        return 0

    @property
    def cacheable_share(self) -> float:
        return self.cacheable / self.total if self.total else 0.0


def prompt_size(prompt: RenderedPrompt) -> PromptSize:
    return PromptSize(*(estimate_tokens(getattr(prompt, s)) for s in SECTIONS))
