"""The firm's voice, measured from its real conversations, and said back to the model.

Lengths of advisor replies and client messages, formatting habits (bold, lists, italics, dashes,
paragraphs), whether the advisor names the client, and how replies open and close. Pure code:
conversations in, a profile out; the profile renders the "firm's voice" lines of the prompt and
the firm's word limits when the settings ask for them.
"""

from __future__ import annotations

import math
import re
import statistics
from collections import Counter
from dataclasses import dataclass
from typing import Sequence

from pydantic import BaseModel, ConfigDict

from brightrun_gen.domain.quality import WordLimits

_BOLD = re.compile(r"\*\*[^*\n]+\*\*")
_LIST = re.compile(r"(?m)^\s*(?:[-*•]|\d+[.)])\s+\S")
_ITALIC = re.compile(r"(?<![*\w])\*(?![\s*])[^*\n]+?(?<![\s*])\*(?![*\w])")
_PARAGRAPH = re.compile(r"\n\s*\n")
_CLAUSE_END = re.compile(r"[,.!?:;—–]")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
TOP_PHRASES = 4


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LengthStats(_Model):
    """Words (or turns) per item: how many items, the mean, the middle 80% and the extremes."""

    count: int
    mean: float
    median: float
    p10: float
    p90: float
    min: int
    max: int


class Phrase(_Model):
    text: str
    count: int


class VoiceProfile(_Model):
    """How the firm's real conversations read. Shares are of advisor replies, 0 to 1."""

    conversations: int
    sources: list[str]
    advisor_words: LengthStats
    client_words: LengthStats
    turns_per_conversation: LengthStats
    bold_share: float
    list_share: float
    italic_share: float
    dash_share: float
    question_end_share: float
    paragraphs_mean: float
    named_replies: int
    openings: list[Phrase]
    closings: list[Phrase]


@dataclass(frozen=True)
class VoiceSample:
    """One real conversation: its key, its turns as (role, text), and the client's names."""

    key: str
    turns: Sequence[tuple[str, str]]
    client_names: Sequence[str] = ()


def measure_voice(samples: Sequence[VoiceSample]) -> VoiceProfile:
    """The voice profile of `samples` (at least one conversation with an advisor reply)."""
    replies = [text for s in samples for role, text in s.turns if role == "assistant"]
    messages = [text for s in samples for role, text in s.turns if role == "user"]
    if not replies or not messages:
        raise ValueError("a voice profile needs conversations with client messages and advisor replies")
    return VoiceProfile(
        conversations=len(samples),
        sources=[s.key for s in samples],
        advisor_words=_stats([_words(t) for t in replies]),
        client_words=_stats([_words(t) for t in messages]),
        turns_per_conversation=_stats([len(s.turns) for s in samples]),
        bold_share=_share(replies, lambda t: bool(_BOLD.search(t))),
        list_share=_share(replies, lambda t: bool(_LIST.search(t))),
        italic_share=_share(replies, lambda t: bool(_ITALIC.search(t))),
        dash_share=_share(replies, lambda t: "—" in t or " – " in t),
        question_end_share=_share(replies, lambda t: t.rstrip().endswith("?")),
        paragraphs_mean=round(statistics.mean(len(_PARAGRAPH.split(t.strip())) for t in replies), 1),
        named_replies=sum(_names_client(text, s.client_names) for s in samples
                          for role, text in s.turns if role == "assistant"),
        openings=_top(_opening(t) for t in replies),
        closings=_top(_last_sentence(_final_reply(s)) for s in samples if _final_reply(s)),
    )


def firm_word_limits(profile: VoiceProfile) -> WordLimits:
    """The firm's own limits: the shortest and longest real turns, widened to whole tens."""
    def span(stats: LengthStats) -> tuple[int, int]:
        return (max(1, math.floor(stats.min / 10) * 10), math.ceil(stats.max / 10) * 10)

    return WordLimits(client=span(profile.client_words), advisor=span(profile.advisor_words))


def voice_lines(profile: VoiceProfile | None) -> list[str]:
    """The firm's voice as the prompt states it: one line per habit, with its figures."""
    if profile is None:
        return ["No voice profile has been measured yet (`brightrun voice`): follow the advisor profile's tone."]
    a, c = profile.advisor_words, profile.client_words
    replies = a.count
    lines = [
        f"Measured from {profile.conversations} real conversations of the firm: {replies} advisor replies, "
        f"{c.count} client messages, {profile.turns_per_conversation.min}-{profile.turns_per_conversation.max} "
        "turns each.",
        f"Advisor replies run {a.mean:.0f} words on average (middle 80%: {a.p10:.0f}-{a.p90:.0f}; shortest {a.min}, "
        f"longest {a.max}), in about {profile.paragraphs_mean:g} short paragraphs.",
        f"Client messages run {c.mean:.0f} words on average (middle 80%: {c.p10:.0f}-{c.p90:.0f}).",
        f"Formatting: {_pct(profile.bold_share)} of replies use **bold** for key terms or step labels, "
        f"{_pct(profile.list_share)} a bulleted or numbered list, {_pct(profile.italic_share)} *italics* for "
        f"emphasis, {_pct(profile.dash_share)} em dashes. Markdown serves structure (steps, options, figures), "
        "never decoration; short, warm replies stay plain prose.",
        _naming(profile.named_replies, replies),
    ]
    if profile.openings:
        lines.append("Replies often open with: " + ", ".join(f'"{p.text} …" ({p.count})' for p in profile.openings)
                     + "; vary openings rather than repeating one.")
    closing = f"{_pct(profile.question_end_share)} of replies end with one question that checks understanding or " \
              "invites the next step"
    if profile.closings:
        closing += "; final replies close with encouragement such as " + ", ".join(
            f'"{p.text}" ({p.count})' for p in profile.closings)
    lines.append(closing + ".")
    return lines


def _naming(named: int, replies: int) -> str:
    if named == 0:
        return f"The advisor never addresses the client by name (0 of {replies} replies)."
    return f"The advisor addresses the client by name in {named} of {replies} replies; in this dataset she does not."


def _stats(values: list[int]) -> LengthStats:
    ordered = sorted(values)
    deciles = statistics.quantiles(ordered, n=10, method="inclusive") if len(ordered) > 1 else ordered * 9
    return LengthStats(count=len(ordered), mean=round(statistics.mean(ordered), 1),
                       median=float(statistics.median(ordered)), p10=round(deciles[0], 1), p90=round(deciles[-1], 1),
                       min=ordered[0], max=ordered[-1])


def _share(texts: list[str], test) -> float:
    return round(sum(1 for t in texts if test(t)) / len(texts), 3)


def _words(text: str) -> int:
    return len(text.split())


def _names_client(text: str, names: Sequence[str]) -> bool:
    firsts = {n.split()[0] for n in names if n and n.split()}
    return any(re.search(rf"\b{re.escape(first)}\b", text) for first in firsts)


def _opening(text: str) -> str:
    """The first words of a reply, up to the first punctuation, at most three words."""
    clause = _CLAUSE_END.split(text.strip(), maxsplit=1)[0]
    return " ".join(clause.split()[:3])


def _final_reply(sample: VoiceSample) -> str:
    return next((text for role, text in reversed(sample.turns) if role == "assistant"), "")


def _last_sentence(text: str) -> str:
    sentences = [s.strip() for s in _SENTENCE_END.split(text.strip()) if s.strip()]
    return sentences[-1] if sentences else ""


def _top(phrases) -> list[Phrase]:
    counts = Counter(p for p in phrases if p)
    return [Phrase(text=text, count=n) for text, n in counts.most_common(TOP_PHRASES) if n >= 2]


def _pct(share: float) -> str:
    return f"{round(share * 100)}%"
