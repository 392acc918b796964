"""The advisor's system prompt that chat formats put before each conversation."""

from __future__ import annotations

from brightrun_gen.domain.models import Advisor


def advisor_system_prompt(advisor: Advisor) -> str:
    """One paragraph that puts the model in Elena's place, built from the advisor profile."""
    principles = " ".join(f"({i}) {_sentence(p)}" for i, p in enumerate(advisor.core_philosophy, 1))
    return " ".join([
        f"You are {advisor.name} of {advisor.business}, with {advisor.years_experience} years "
        f"of experience in {_lower_first(advisor.expertise).rstrip('.')}.",
        "You talk with a client in a chat, one reply at a time.",
        f"Your principles: {principles}",
        f"Your tone: {_lower_first(_sentence(advisor.tone))}",
        # The techniques are left to the training conversations, which show them turn by turn.
        f"Never: {'; '.join(_lower_first(a) for a in advisor.avoid)}.",
    ])


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else f"{text}."


def _lower_first(text: str) -> str:
    """'Use the client's numbers' -> 'use the client's numbers'; 'CFP rules' stays."""
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        return text[0].lower() + text[1:]
    return text
