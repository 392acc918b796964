"""The one set of pydantic models: catalog entries, planned rows and the conversation schema.

The JSON schema sent to Claude, the validation of its answer, the importers and the exporters
all use `GeneratedConversation` / `Turn`, so a conversation means the same thing everywhere.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["user", "assistant"]
Tier = Literal[1, 2, 3]

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

# The eight dimensions a reviewer filters by; each is a column of `conversations`.
DIMENSIONS = (
    "persona",
    "emotion_start",
    "emotion_end",
    "content_category",
    "intent",
    "tone",
    "topic_cluster",
    "outcome_type",
    "tier",
)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Turn(Strict):
    """One message of a conversation."""

    role: Role = Field(description="'user' is the client, 'assistant' is the advisor")
    content: str = Field(min_length=1, description="What is said, as plain text")


class GeneratedConversation(Strict):
    """What the model returns: the turns of one conversation, client first."""

    turns: list[Turn] = Field(
        min_length=2,
        max_length=40,
        description="Alternating turns starting with the client ('user')",
    )


# --- catalog -------------------------------------------------------------------------------


class Advisor(Strict):
    name: str
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
    key: str
    name: str
    archetype: str
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
    key: str
    name: str
    family: str
    valence: Literal["positive", "negative", "neutral", "mixed"]
    intensity: float = Field(ge=0, le=1)


class Arc(Strict):
    key: str
    name: str
    description: str
    start_emotion: str
    end_emotion: str
    milestones: list[str]


class Topic(Strict):
    key: str
    name: str
    content_category: str
    topic_cluster: str


class Scenario(Strict):
    key: str
    title: str
    context: str
    complexity: Literal["low", "medium", "high"]
    desired_outcome: str
    topic: str
    arc: str


class EdgeCase(Strict):
    key: str
    title: str
    type: str
    context: str
    stress_factors: list[str]
    resolution_strategy: str
    topic: str
    start_emotion: str
    end_emotion: str


class VocabEntry(Strict):
    key: str
    name: str
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
    persona: str
    emotion_start: str
    emotion_end: str
    topic: str
    content_category: str
    topic_cluster: str
    intent: str
    tone: str
    outcome_type: str
    arc: str | None = None
    scenario: str | None = None
    edge_case: str | None = None


class PlannedRow(Strict):
    """One row of the generation plan: a stable key plus its dimensions."""

    key: str
    dimensions: Dimensions


class ConversationRecord(Strict):
    """A conversation as files carry it (our seed/export format) and as importers produce it."""

    key: str
    source: Literal["plan", "seed", "import"] = "seed"
    dimensions: Dimensions
    turns: list[Turn]
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
