"""The judge's rubric as data (prompts/rubric.yaml), versioned by the hash of its text.

Pure code: parse the file into a `Rubric`, render the judge's prompt for one conversation. The
judge's answer schema and what is done with the answer live in `verdicts`.
"""

from __future__ import annotations

import hashlib
import json
from typing import Mapping, Sequence

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from brightrun_gen.domain.prompts import RenderedPrompt, as_data
from brightrun_gen.errors import TemplateError

RUBRIC_FILE = "rubric.yaml"
SCORE_MIN, SCORE_MAX = 1, 5
# The per-turn scales the lora-v4 export needs for every advisor turn; the rubric describes each.
TURN_SCALES = ("empathy", "clarity", "appropriateness", "brand_voice")
# Row parameters the judge sees; the few-shot examples are left out (they are not this conversation).
_HIDDEN_PARAMETERS = ("examples",)


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Criterion(_Data):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str
    question: str


class Rule(_Data):
    """A deterministic check on the advisor's words: a phrase found caps some criteria."""

    name: str
    label: str
    phrases: list[str] = Field(min_length=1)
    caps: dict[str, int]
    negatable: bool = True
    suggestion: str


class Rubric(_Data):
    name: str
    description: str = ""
    instructions: str
    scale: str
    criteria: list[Criterion] = Field(min_length=1)
    turn_scales: dict[str, str]
    rules: list[Rule] = Field(default_factory=list)
    must_have_caps: dict[str, int] = Field(default_factory=dict)
    arithmetic_caps: dict[str, int] = Field(default_factory=dict)
    stock_phrases: list[str] = Field(default_factory=list)
    content_hash: str = ""

    @field_validator("turn_scales")
    @classmethod
    def _every_turn_scale(cls, value: dict[str, str]) -> dict[str, str]:
        missing = [s for s in TURN_SCALES if s not in value]
        if missing:
            raise ValueError(f"turn_scales must describe {', '.join(TURN_SCALES)}; {missing[0]} is missing")
        return value

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.criteria]

    def label(self, name: str) -> str:
        return next((c.label for c in self.criteria if c.name == name), name.replace("_", " "))

    def unknown_caps(self) -> list[str]:
        """Criteria named by a cap that the rubric does not define (a typo in the file)."""
        capped = [n for r in self.rules for n in r.caps] + list(self.must_have_caps) + list(self.arithmetic_caps)
        return [n for n in capped if n not in self.names]


def parse_rubric(text: str, source: str = RUBRIC_FILE) -> Rubric:
    """The rubric in `text`; a bad file is one line naming the file and the field."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown position"
        raise TemplateError(f"judge rubric {source}: {where}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(data, dict):
        raise TemplateError(f"judge rubric {source}: expected a mapping at the top level")
    try:
        rubric = Rubric.model_validate({**data, "content_hash": content_hash(text)})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "top level"
        raise TemplateError(f"judge rubric {source}: {where}: {first['msg']}") from None
    unknown = rubric.unknown_caps()
    if unknown:
        raise TemplateError(f"judge rubric {source}: caps name criterion {unknown[0]!r}, which is not in criteria")
    return rubric


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- the judge's prompt ------------------------------------------------------------------------


def judge_prompt(rubric: Rubric, turns: Sequence, row: Mapping[str, str], findings: Sequence[dict]) -> RenderedPrompt:
    """What the judge reads: the rubric (static, cached), the row, then the conversation and the
    deterministic findings. `parameters` carry the same material as data, so the offline judge
    answers from it exactly as the model would from the text."""
    conversation = [{"turn": i, "role": t.role, "content": t.content} for i, t in enumerate(turns, 1)]
    shown_row = {k: _opened(v) for k, v in row.items() if k not in _HIDDEN_PARAMETERS}
    parameters = {
        "rubric_hash": rubric.content_hash,
        "criteria": as_data(rubric.names),
        "stock_phrases": as_data(rubric.stock_phrases),
        "row": as_data(shown_row),
        "conversation": as_data(conversation),
        "findings": as_data(list(findings)),
    }
    return RenderedPrompt(
        template=rubric.name,
        template_hash=rubric.content_hash,
        system=_system(rubric),
        context=f"The conversation was written for this row (data): {as_data(shown_row)}",
        request=_request(conversation, findings, rubric),
        parameters=parameters,
    )


def _opened(value):
    """A prompt parameter the generation rendered as JSON text, back to its structure, so the row is
    shown to the judge as one JSON document instead of strings of escaped JSON."""
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _system(rubric: Rubric) -> str:
    criteria = "\n".join(f"- {c.name} ({c.label}): {c.question}" for c in rubric.criteria)
    scales = "\n".join(f"- {name}: {text}" for name, text in rubric.turn_scales.items())
    stock = "; ".join(rubric.stock_phrases)
    return (f"{rubric.instructions.strip()}\n\nScale:\n{rubric.scale.strip()}\n\nCriteria:\n{criteria}\n\n"
            f"Per advisor turn, score:\n{scales}\n\nExamples of stock phrases that make text read like a "
            f"template: {stock}.")


def _request(conversation: list[dict], findings: Sequence[dict], rubric: Rubric) -> str:
    found = [f for f in findings if not f.get("passed", True)]
    checks = json.dumps(found, ensure_ascii=False) if found else "none failed"
    return (f"The conversation (data): {json.dumps(conversation, ensure_ascii=False)}\n\n"
            f"Deterministic checks that failed (data; they cap your scores): {checks}\n\n"
            f"Score every criterion ({', '.join(rubric.names)}) and every advisor turn.")
