"""Words and word n-grams of conversation text: what near-duplicates, phrases and diversity count.

One tokenizer for all three, so "I'm" is one word everywhere and a phrase the statistics show is
the same sequence the similarity measure compares.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Lower-case words and numbers: an apostrophe inside a word keeps it whole ("i'm", "don't"), and so
# do separators inside a number ("12,000", "3.5"). Curly apostrophes are folded into straight ones
# first, so both spellings are one word. (\w also takes "_" and joins a comma typed without a space
# after it; neither matters for counting, and this pattern is a third faster than a stricter one.)
_WORD = re.compile(r"\w+(?:[.,']\w+)*")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})
# What replaces a client's first name, so "Marcus, I hear you" and "Priya, I hear you" are one phrase.
NAME_TOKEN = "[name]"


@dataclass(frozen=True)
class TextTurn:
    role: str
    content: str


@dataclass(frozen=True)
class TextConversation:
    """A conversation as the dataset statistics read it: its key, who wrote it, its turns."""

    id: int
    key: str
    offline: bool
    turns: tuple[TextTurn, ...]
    source: str = "plan"


def words(text: str, names: frozenset[str] = frozenset()) -> list[str]:
    """The words of a text, lower-cased; any word in `names` becomes NAME_TOKEN."""
    found = _WORD.findall(text.translate(_APOSTROPHES).lower())
    if names:
        return [NAME_TOKEN if w in names else w for w in found]
    return found
