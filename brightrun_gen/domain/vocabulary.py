"""The app's words, each defined once: statuses and their groups and labels, the dimensions' labels."""

from __future__ import annotations

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
