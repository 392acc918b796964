"""How our plan's dimensions are said in the pipeline's brightrun-lora-v4 vocabulary.

The v4 schema names its scaffolding with closed lists: three persona archetypes, four emotional
arcs, six conversation phases, four quality tiers. Our catalog is larger, so each of our values
is mapped here, in tables one can read and change, and the record keeps our own key beside the
v4 one. A conversation whose persona or starting emotion has no v4 counterpart is left out of a
v4 export and counted, never forced into a wrong bucket.
"""

from __future__ import annotations

import re

from brightrun_gen.domain.models import Persona

V4_ARCHETYPES = ("pragmatic_optimist", "anxious_planner", "overwhelmed_avoider")

# Our personas, each with the v4 archetype its profile matches (an imported persona whose
# archetype reads as a v4 one, "The Anxious Planner", maps by its name).
PERSONA_ARCHETYPES = {
    "marcus_thompson": "overwhelmed_avoider",  # "The Overwhelmed Avoider"
    "jennifer_park": "anxious_planner",  # "The Anxious Planner"
    "david_chen": "pragmatic_optimist",  # "The Pragmatic Optimist"
    "anxious_first_time_investor": "anxious_planner",  # careful, afraid of an irreversible mistake
    "recent_retiree": "anxious_planner",  # "a planner who dislikes uncertainty", spikes of fear
    "mid_career_professional": "pragmatic_optimist",  # decisive, wants frameworks and trade-offs
    "small_business_owner": "pragmatic_optimist",  # resourceful, "wants what works"
}

# The v4 arcs are named for where the client starts; ours start from the row's emotion_start.
# Starts with no v4 arc (a win: excitement, pride; anger; grief, despair) leave the row out.
ARC_LABELS = {
    "confusion_to_clarity": "Confusion → Clarity",
    "shame_to_acceptance": "Shame → Acceptance",
    "fear_to_confidence": "Fear → Confidence",
    "overwhelm_to_empowerment": "Overwhelm → Empowerment",
}
ARC_BY_START_EMOTION = {
    "confusion": "confusion_to_clarity",
    "ambivalence": "confusion_to_clarity",
    "skepticism": "confusion_to_clarity",
    "curiosity": "confusion_to_clarity",  # exploring what one does not yet understand
    "frustration": "overwhelm_to_empowerment",  # stuck on a plateau, ends empowered
    "shame": "shame_to_acceptance",
    "guilt": "shame_to_acceptance",
    "fear": "fear_to_confidence",
    "anxiety": "fear_to_confidence",
    "panic": "fear_to_confidence",
    "overwhelm": "overwhelm_to_empowerment",
}

# The opening phase by v4 arc; then exploring, then implementing, and the last pair closes.
_OPENING_PHASE = {
    "shame_to_acceptance": "initial_shame_revelation",
    "fear_to_confidence": "initial_crisis_disclosure",
}
_TIER_DIFFICULTY = {1: "intermediate", 3: "advanced"}
_COMPLEXITY_DIFFICULTY = {"low": "beginner", "medium": "intermediate", "high": "advanced"}
# Our valences as v4 writes them (it has no "neutral").
VALENCES = {"positive": "positive", "negative": "negative", "mixed": "mixed", "neutral": "mixed"}


def persona_archetype(persona_key: str, persona: Persona | None) -> str | None:
    """The v4 archetype of one of our personas, or None when none fits."""
    if persona_key in PERSONA_ARCHETYPES:
        return PERSONA_ARCHETYPES[persona_key]
    if persona is None:
        return None
    slug = re.sub(r"[^a-z]+", "_", persona.archetype.lower()).strip("_").removeprefix("the_")
    return slug if slug in V4_ARCHETYPES else None


def arc_key(emotion_start: str) -> str | None:
    return ARC_BY_START_EMOTION.get(emotion_start)


def conversation_phase(n: int, pairs: int, arc: str) -> str:
    """The phase of pair n (from 1) of `pairs`: opening, exploring, implementing, closing."""
    if n == 1:
        return _OPENING_PHASE.get(arc, "initial_opportunity_exploration")
    if n == pairs:
        return "commitment_and_closure"
    return "exploring_deeper_concern" if n <= (pairs + 1) // 2 else "practical_implementation"


def difficulty(tier: int, complexity: str | None) -> str:
    """Tier 3 edge cases are advanced; a scenario says its own complexity; arcs are intermediate."""
    if tier == 2 and complexity in _COMPLEXITY_DIFFICULTY:
        return _COMPLEXITY_DIFFICULTY[complexity]
    return _TIER_DIFFICULTY.get(tier, "intermediate")


def quality_tier(source: str, status: str) -> str:
    """Our seeds are the seed dataset; approved text is production; rejected is rejected."""
    if source == "seed":
        return "seed_dataset"
    return {"approved": "production", "rejected": "rejected"}.get(status, "experimental")


def conversation_source(source: str) -> str:
    return "synthetic_expert_authored" if source == "seed" else "synthetic_platform_generated"
