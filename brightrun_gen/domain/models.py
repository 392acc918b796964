"""The one set of models: catalog entries, planned rows, the conversation schema, the statuses,
and the turns and review events the store reads back.

The JSON schema sent to Claude, the validation of its answer, the importers and the exporters
all use `GeneratedConversation` / `Turn`, so a conversation means the same thing everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["user", "assistant"]
Tier = Literal[1, 2, 3]

# Limits, the same as the store's column lengths (a test keeps them equal): a value that
# passes validation always fits its column, on PostgreSQL as on SQLite.
KEY_MAX = 80  # catalog keys and the dimensions that name a catalog entry
LABEL_MAX = 120  # topics, categories, intents, tones, outcomes, conversation keys
NAME_MAX = 200  # display names and titles
# One turn of a conversation: the longest real turns are a few thousand characters.
TURN_MAX_CHARS = 20_000
# Turns of one stored conversation (imports); a generated one has at most GENERATED_TURNS_MAX.
CONVERSATION_TURNS_MAX = 200
GENERATED_TURNS_MAX = 40

Key = Annotated[str, Field(max_length=KEY_MAX)]
Label = Annotated[str, Field(max_length=LABEL_MAX)]
Name = Annotated[str, Field(max_length=NAME_MAX)]

# The model name the offline generator writes: labelled as such everywhere, left out of exports
# unless asked for.
OFFLINE_MODEL = "offline"

STATUSES = (
    "not_generated",
    "queued",
    "generating",
    "generated",
    "approved",
    "needs_edit",
    "rejected",
    "failed",
    "seed",
)

# Groups of statuses, each named once for what it means.
DECISIONS = ("approved", "needs_edit", "rejected")  # a reviewer's decision about the current text
WRITTEN = ("generated", "seed", "approved", "needs_edit", "rejected")  # has text to review, analyse or export
GENERATABLE = ("not_generated", "failed")  # what "generate all" takes when no status is chosen
KEPT = ("seed", "approved")  # never sent to the model from a selection: examples and final text
BUSY = ("queued", "generating")

STATUS_LABELS = {
    "not_generated": "Not Generated", "queued": "Queued", "generating": "Generating", "generated": "Generated",
    "approved": "Approved", "needs_edit": "Needs Edit", "rejected": "Rejected", "failed": "Failed", "seed": "Seed",
}
DECISION_LABELS = {"approved": "Approved", "needs_edit": "Needs edit", "rejected": "Rejected"}
# Badge colors; the grid uses the same meaning (grey idle, blue busy, green good, orange/red bad).
STATUS_COLORS = {
    "not_generated": "gray", "queued": "blue", "generating": "blue", "generated": "violet", "approved": "green",
    "needs_edit": "orange", "rejected": "red", "failed": "red", "seed": "gray",
}

# The dimensions a reviewer filters by, in widget order, with their labels; each is a column of
# `conversations`.
DIMENSION_LABELS = {
    "persona": "Persona", "emotion_start": "Emotion at start", "emotion_end": "Emotion at end",
    "content_category": "Content category", "intent": "Intent", "tone": "Tone", "topic_cluster": "Topic cluster",
    "outcome_type": "Outcome type", "tier": "Tier",
}
DIMENSIONS = tuple(DIMENSION_LABELS)
# The dashboard's filter widgets, in order: the dimensions, then status.
FILTER_LABELS = {**DIMENSION_LABELS, "status": "Status"}
TIER_LABELS = {1: "1 – emotional arc", 2: "2 – scenario", 3: "3 – edge case"}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Turn(Strict):
    """One message of a conversation, with what is known about it (`annotations`)."""

    role: Role = Field(description="'user' is the client, 'assistant' is the advisor")
    content: str = Field(min_length=1, max_length=TURN_MAX_CHARS, description="What is said, as plain text")
    # Per-turn annotations (domain/annotations.py): the client's emotion, the advisor's strategy,
    # judge scores, a v4 file's own objects. Stored with the version, beside the text.
    annotation: dict | None = None


def _every_key_required(schema: dict) -> None:
    """The model writes every annotation key (null where it does not apply), while an answer
    without them, from before annotations or from a test double, still validates."""
    schema["required"] = list(schema["properties"])


class GeneratedTurn(Strict):
    """One message as the model writes it: the text, and how the writer means it."""

    model_config = ConfigDict(json_schema_extra=_every_key_required)

    role: Role = Field(description="'user' is the client, 'assistant' is the advisor")
    content: str = Field(min_length=1, max_length=TURN_MAX_CHARS, description="What is said, as plain text")
    emotion: str | None = Field(default=None, max_length=KEY_MAX, description=(
        "Client turn: the client's primary emotion in this message, one of the catalog's emotion keys "
        "(e.g. 'anxiety', 'shame', 'relief'). Advisor turn: null"))
    intensity: float | None = Field(default=None, ge=0, le=1, description=(
        "Client turn: how strongly the client feels that emotion here, 0 (barely) to 1 (overwhelmingly). "
        "Advisor turn: null"))
    confidence: float | None = Field(default=None, ge=0, le=1, description=(
        "Client turn: how clearly the words show that emotion to a reader, 0 to 1. Advisor turn: null"))
    strategy: str | None = Field(default=None, max_length=NAME_MAX, description=(
        "Advisor turn: the response strategy of this reply in a short phrase "
        "(e.g. 'validate the shame, then one small concrete step'). Client turn: null"))


class GeneratedConversation(Strict):
    """What the model returns: the turns of one conversation, client first, each annotated."""

    turns: list[GeneratedTurn] = Field(
        min_length=2,
        max_length=GENERATED_TURNS_MAX,
        description="Alternating turns starting with the client ('user')",
    )


# --- catalog -------------------------------------------------------------------------------


class Advisor(Strict):
    name: Name
    business: str
    expertise: str
    years_experience: int
    core_philosophy: list[str]
    tone: str
    techniques: list[str]
    avoid: list[str]


class Demographics(Strict):
    age: int
    occupation: str
    income: str
    family: str
    location: str


class Persona(Strict):
    key: Key
    name: Name
    archetype: Name
    demographics: Demographics
    financial_background: str
    traits: list[str]
    communication_style: str
    emotional_baseline: str
    goals: list[str]


def persona_label(name: str, archetype: str) -> str:
    """How tables, charts and console-era files name a client: 'Marcus Thompson - The Overwhelmed
    Avoider', or the name alone when the archetype is missing or repeats it."""
    return name if archetype in ("", name) else f"{name} - {archetype}"


class Emotion(Strict):
    key: Key
    name: Name
    family: Key
    valence: Literal["positive", "negative", "neutral", "mixed"]
    intensity: float = Field(ge=0, le=1)


class Arc(Strict):
    key: Key
    name: Name
    description: str
    start_emotion: str
    end_emotion: str
    milestones: list[str]


class Topic(Strict):
    key: Key
    name: Name
    content_category: Label
    topic_cluster: Label


class Scenario(Strict):
    key: Key
    title: Name
    context: str
    complexity: Literal["low", "medium", "high"]
    desired_outcome: str
    topic: str
    arc: str


class EdgeCase(Strict):
    key: Key
    title: Name
    type: str
    context: str
    stress_factors: list[str]
    resolution_strategy: str
    topic: str
    start_emotion: str
    end_emotion: str


class VocabEntry(Strict):
    key: Key
    name: Name
    description: str


class Catalog(Strict):
    advisor: Advisor
    personas: list[Persona]
    emotions: list[Emotion]
    arcs: list[Arc]
    topics: list[Topic]
    scenarios: list[Scenario]
    edge_cases: list[EdgeCase]
    intents: list[VocabEntry]
    tones: list[VocabEntry]
    outcome_types: list[VocabEntry]


# --- planned rows and stored conversations -------------------------------------------------


class Dimensions(Strict):
    """Everything that defines what a conversation should be about."""

    tier: Tier
    persona: Key
    emotion_start: Key
    emotion_end: Key
    topic: Label
    content_category: Label
    topic_cluster: Label
    intent: Label
    tone: Label
    outcome_type: Label
    arc: Key | None = None
    scenario: Key | None = None
    edge_case: Key | None = None


# Every field of Dimensions, in order; each is a column of `conversations` (DIMENSIONS above are
# the ones a reviewer filters by).
DIMENSION_NAMES = tuple(Dimensions.model_fields)


class PlannedRow(Strict):
    """One row of the generation plan: a stable key plus its dimensions."""

    key: Label
    dimensions: Dimensions


class ConversationRecord(Strict):
    """A conversation as files carry it (our seed/export format) and as importers produce it."""

    key: Label
    source: Literal["plan", "seed", "import"] = "seed"
    dimensions: Dimensions
    turns: list[Turn] = Field(max_length=CONVERSATION_TURNS_MAX)
    metadata: dict = Field(default_factory=dict)


class DatasetInfo(Strict):
    name: str
    description: str = ""
    created_at: str = ""


class BrightRunFile(Strict):
    """Our own file format: the project's seed conversations and the `brightrun` export."""

    format: Literal["brightrun"]
    version: Literal[1]
    dataset: DatasetInfo
    advisor: Advisor | None = None
    conversations: list[ConversationRecord]


# --- read back from the store --------------------------------------------------------------


class StoredTurn(NamedTuple):
    """A turn as the store gives it back: its role, its text, its place (from 0) in its version
    and its annotations (None when not read or not known).

    Not a `Turn`: the text was validated on the way in, and an export reads 120,000 turns at a
    time, where a tuple costs a tenth of as many pydantic models. An export's checks still name
    a bad turn.
    """

    role: str
    content: str
    position: int
    annotation: dict | None = None

    @property
    def word_count(self) -> int:
        """As the store counts it when it saves the turn."""
        return len(self.content.split())


@dataclass(frozen=True)
class ReviewEvent:
    """One reviewer decision about one version of a conversation: a row of the audit trail."""

    id: int
    version: int
    action: str  # one of DECISIONS
    reviewer: str
    notes: str | None
    at: datetime | None

    def as_dict(self) -> dict:
        """The history row the review page and the CLI show."""
        return {"id": self.id, "version": self.version, "action": self.action, "reviewer": self.reviewer,
                "notes": self.notes, "at": self.at}
