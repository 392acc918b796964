"""The one set of models: catalog entries, planned rows and the conversation schema.

The statuses and labels are in `vocabulary`; what the store reads back (turns, review events) in
`stored`.

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


# --- compatibility: what a persona is, what a catalog item needs ---------------------------
# The plan builder pairs a persona with a topic, scenario or edge case only when the persona's
# facts meet the item's requirements; the plan linter reports every pair that does not.

LifeStage = Literal["early_career", "mid_career", "late_career", "retired"]
Employment = Literal["employee", "self_employed", "retired"]
Household = Literal["single", "married", "divorced", "widowed"]
Housing = Literal["renter", "mortgage", "owned_outright"]
IncomeBand = Literal["under_100k", "100k_200k", "over_200k"]  # household income a year
Account = Literal["401k", "403b", "457b", "ira", "roth_ira", "pension", "529", "brokerage", "savings",
                  "rsu", "espp", "business"]
Debt = Literal["mortgage", "student_loans", "credit_cards", "car_loan", "business_credit_line"]
Plan = Literal["start_investing", "buy_home", "emergency_fund", "college", "retire_early", "retirement_income",
               "social_security", "protect_family", "pay_off_debt", "steady_income", "help_family",
               "new_baby", "understand_benefits", "financial_independence"]


class PersonaFacts(Strict):
    """What a persona's profile states, as values a rule can check. Amounts are the dollar
    figures the profile states (mortgage_balance, cash_savings, ...), so a scenario that
    states another figure for the same thing is caught."""

    age: int = Field(ge=18, le=110)
    life_stage: LifeStage
    employment: Employment
    household: Household
    children: list[int] = Field(default_factory=list, description="ages; adults included")
    expecting_child: bool = False
    housing: Housing
    income_band: IncomeBand
    accounts: list[Account] = Field(default_factory=list)
    debts: list[Debt] = Field(default_factory=list)
    plans: list[Plan] = Field(default_factory=list)
    amounts: dict[Key, int] = Field(default_factory=dict)


class AgeRange(Strict):
    min: int | None = None
    max: int | None = None


class ChildrenRule(Strict):
    """Children the situation needs: how many, and how old the youngest and the oldest are."""

    count_min: int = 0
    count_max: int | None = None
    youngest_max: int | None = None
    oldest_min: int | None = None
    oldest_max: int | None = None


class Requirements(Strict):
    """What a persona must be for a topic, scenario or edge case to make sense.

    Lists are any-of, except `debts` and `plans` (all of them) and `no_debts` (none of them). `amounts` are figures the item's text states: a persona that states the
    same figure must state the same value. `personas` re-targets an item to named personas.
    """

    personas: list[Key] | None = None
    age: AgeRange | None = None
    life_stage: list[LifeStage] | None = None
    employment: list[Employment] | None = None
    household: list[Household] | None = None
    children: ChildrenRule | None = None
    expecting_child: bool | None = None
    housing: list[Housing] | None = None
    income_band: list[IncomeBand] | None = None
    accounts: list[Account] | None = None
    debts: list[Debt] | None = None
    no_debts: list[Debt] | None = None
    plans: list[Plan] | None = None
    amounts: dict[Key, int] | None = None


class Fit(Strict):
    """The tones, intents and outcomes that fit a storyline (an arc or an edge case)."""

    tones: list[Key] = Field(min_length=1)
    intents: list[Key] = Field(min_length=1)
    outcomes: list[Key] = Field(min_length=1)


class Beat(Strict):
    """One phase of a storyline: its share of the turns, where the client is, what Elena does."""

    phase: Name
    share: float = Field(gt=0)
    client: Key  # an emotion key
    intensity: float = Field(ge=0, le=1)
    advisor: str


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
    facts: PersonaFacts | None = None  # personas created by imports have none and are never planned


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
    # Tones that must not meet a client who starts here: celebration belongs to wins, not to panic.
    unsuited_tones: list[Key] = Field(default_factory=list)


class Arc(Strict):
    key: Key
    name: Name
    description: str
    start_emotion: str
    end_emotion: str
    milestones: list[str]
    fit: Fit
    beats: list[Beat] = Field(min_length=2)
    requires: Requirements | None = None


class Topic(Strict):
    key: Key
    name: Name
    content_category: Label
    topic_cluster: Label
    requires: Requirements | None = None
    arcs: list[Key] | None = None  # the arcs a conversation on this topic can follow; None: all


class Scenario(Strict):
    key: Key
    title: Name
    context: str
    complexity: Literal["low", "medium", "high"]
    desired_outcome: str
    topic: str
    arc: str
    requires: Requirements | None = None


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
    requires: Requirements | None = None
    fit: Fit
    beats: list[Beat] = Field(min_length=2)
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
    openings: list[VocabEntry]
    channels: list[VocabEntry]
    verbosity: list[VocabEntry]


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


class Variation(Strict):
    """How one conversation differs from its neighbours, beyond its dimensions.

    Stored as the row's `variation.*` metadata: shown in the preview, filterable, exported.
    `opening`, `channel` and `verbosity` are keys of the catalog vocabularies of those names.
    """

    target_turns: int = Field(ge=2, le=GENERATED_TURNS_MAX)
    opening: Key
    channel: Key
    verbosity: Key
    pushback: bool
    sub_issues: int = Field(ge=1, le=3)


VARIATION_FIELDS = tuple(Variation.model_fields)
# How a variation field is named where dimensions are filtered: `--where variation.opening=story_first`.
VARIATION_FILTERS = tuple(f"variation.{name}" for name in VARIATION_FIELDS)


def variation_value(name: str, text) -> object:
    """A filter value typed as the variation field is stored: '12' -> 12, 'true' -> True."""
    kind = Variation.model_fields[name].annotation
    value = str(text).strip()
    if kind is bool:
        return value.lower() in ("true", "yes", "1")
    if kind is int:
        return int(value) if value.lstrip("-").isdigit() else value
    return value
VARIATION_LABELS = {
    "target_turns": "Target turns", "opening": "How the client opens", "channel": "Channel and time",
    "verbosity": "Client verbosity", "pushback": "Pushes back once", "sub_issues": "Sub-issues",
}


class PlannedRow(Strict):
    """One row of the generation plan: a stable key, its dimensions and its variation."""

    key: Label
    dimensions: Dimensions
    variation: Variation | None = None


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
