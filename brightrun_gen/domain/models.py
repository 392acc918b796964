"""The one set of pydantic models: catalog entries, planned rows and the conversation schema.

The JSON schema sent to Claude, the validation of its answer, the importers and the exporters
all use `GeneratedConversation` / `Turn`, so a conversation means the same thing everywhere.
"""

from __future__ import annotations

from typing import Annotated, Literal

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
SOURCES = ("plan", "seed", "import")

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
    """One message of a conversation."""

    role: Role = Field(description="'user' is the client, 'assistant' is the advisor")
    content: str = Field(min_length=1, max_length=TURN_MAX_CHARS, description="What is said, as plain text")


class GeneratedConversation(Strict):
    """What the model returns: the turns of one conversation, client first."""

    turns: list[Turn] = Field(
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

    @property
    def label(self) -> str:
        return f"{self.name} ({self.archetype})" if self.archetype != self.name else self.name


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


class MustHave(Strict):
    """An element an edge case requires (or forbids) in the advisor's words, checked without a model:
    present when any of its phrases appears (case-insensitive, at a word start)."""

    element: str
    any_of: list[str] = Field(min_length=1)


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
    must_include: list[MustHave] = Field(default_factory=list)
    must_avoid: list[MustHave] = Field(default_factory=list)


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


# Every field of a row's dimensions: the columns of `conversations` that `--where` can filter on.
DIMENSION_FIELDS = tuple(Dimensions.model_fields)


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
