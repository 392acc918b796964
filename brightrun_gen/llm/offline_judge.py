"""A judge without a model: deterministic heuristics, labelled `offline` like the offline generator.

It answers a judge prompt exactly as Claude would (a `Verdict` as JSON), from the material the
prompt carries as data, so its answer goes through the same validation, quote check and caps.
What it cannot measure without a model it scores 3 and says so; what it can count, it counts:
stock phrases (the offline generator's placeholder text is full of them, and scores low), a
concrete next step, permission before teaching. Safety, arithmetic and dismissiveness come
from the deterministic findings, which cap its scores as they cap Claude's.
"""

from __future__ import annotations

import json

from brightrun_gen.domain.content_checks import phrase_pattern, phrases_pattern, plain, sentences
from brightrun_gen.domain.prompts import RenderedPrompt
from brightrun_gen.llm.base import Answer, Usage

OFFLINE_JUDGE_MODEL = "offline-judge"
NOT_MEASURED = 3
_PERMISSION = ("would it help", "may i", "would it be okay", "would it be ok", "can i walk", "could i walk",
               "would you like me to", "is it okay if", "i'd love to walk", "want me to")
# A concrete next step in the advisor's last turn: a time, or an action with someone.
_NEXT_STEP = ("this week", "next week", "weekend", "tonight", "today", "tomorrow", "next step*", "first step",
              "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "calendar", "invite",
              "schedul*", "appointment", "session", "set up", "check in", "follow up", "bring", "send", "next call",
              "next meeting", "in a month", "in two weeks")


def _found(text: str, phrases) -> list[str]:
    """The phrases said in `text` (plain), as said, once per time."""
    return phrases_pattern(tuple(phrases)).findall(text)


class OfflineJudge:
    name = "offline"
    model = OFFLINE_JUDGE_MODEL

    def generate(self, prompt: RenderedPrompt) -> Answer:
        p = prompt.parameters
        turns = json.loads(p["conversation"])
        scorers = {
            "naturalness": lambda: _naturalness(turns, json.loads(p["stock_phrases"])),
            "outcome_reached": lambda: _outcome(turns),
            "brand_voice": lambda: _voice(turns),
            "safety_scope": lambda: _sentence_score(turns, 4, "No safety problem found by the deterministic checks.",
                                                     "Keep the referrals and limits as they are."),
        }
        criteria = [{"name": name, **(scorers[name]() if name in scorers else _unmeasured(turns, name))}
                    for name in json.loads(p["criteria"])]
        verdict = {"criteria": criteria, "turns": _turn_scores(turns, json.loads(p["stock_phrases"])),
                   "summary": "Offline judge: deterministic heuristics, no model. Stock phrases, next step, "
                              "permission and the deterministic checks are measured; the rest is scored 3."}
        text = json.dumps(verdict, ensure_ascii=False)
        return Answer(text=text, stop_reason="end_turn", model=OFFLINE_JUDGE_MODEL,
                      usage=Usage(input_tokens=self.count_tokens(prompt), output_tokens=len(text) // 4))

    def count_tokens(self, prompt: RenderedPrompt) -> int:
        return (len(prompt.system) + len(prompt.context) + len(prompt.request)) // 4


def _advisor(turns: list[dict]) -> list[dict]:
    return [t for t in turns if t["role"] == "assistant"]


def _first_sentence(turn: dict | None) -> str:
    return sentences(turn["content"])[0] if turn and sentences(turn["content"]) else ""


def _sentence_with(turns: list[dict], phrases) -> tuple[int, str] | None:
    for turn in turns:
        for sentence in sentences(turn["content"]):
            if _found(plain(sentence), phrases):
                return turn["turn"], sentence
    return None


def _sentence_score(turns: list[dict], score: int, why: str, keep: str) -> dict:
    first = _advisor(turns)[0] if _advisor(turns) else None
    return {"score": score, "evidence": _first_sentence(first), "suggestion": f"{why} {keep}"}


def _unmeasured(turns: list[dict], name: str) -> dict:
    return _sentence_score(turns, NOT_MEASURED, f"The offline judge cannot measure {name.replace('_', ' ')}.",
                           "Judge with Claude (set ANTHROPIC_API_KEY) for a real score.")


def _naturalness(turns: list[dict], stock: list[str]) -> dict:
    hits = [(turn["turn"], phrase) for turn in turns for phrase in _found(plain(turn["content"]), stock)]
    distinct = len({phrase for _, phrase in hits})
    if distinct <= 1:  # one stock phrase is how people talk; several are a template
        return _sentence_score(turns, 4, "At most one stock phrase.", "Keep the replies specific to what was said.")
    score = 3 if distinct == 2 else 2 if distinct <= 4 else 1
    number, phrase = hits[0]
    turn = next(t for t in turns if t["turn"] == number)
    evidence = next(s for s in sentences(turn["content"]) if phrase_pattern(phrase).search(plain(s)))
    examples = ", ".join(f'"{ph}"' for ph in list(dict.fromkeys(ph for _, ph in hits))[:3])
    return {"score": score, "evidence": evidence,
            "suggestion": f"{distinct} different stock phrases, e.g. {examples}: rewrite turn {number} and the others "
                          "in plain words that answer what the client just said."}


def _outcome(turns: list[dict]) -> dict:
    advisor = _advisor(turns)
    last = advisor[-1] if advisor else None
    if last and _found(plain(last["content"]), _NEXT_STEP):
        evidence = next((s for s in sentences(last["content"]) if _found(plain(s), _NEXT_STEP)), _first_sentence(last))
        return {"score": 4, "evidence": evidence, "suggestion": "Keep the concrete next step and its date."}
    return {"score": 2, "evidence": _first_sentence(last),
            "suggestion": "End with one concrete next step the client agrees to, with a date (\"by Friday ...\")."}


def _voice(turns: list[dict]) -> dict:
    hit = _sentence_with(_advisor(turns), _PERMISSION)
    if hit:
        return {"score": 4, "evidence": hit[1], "suggestion": "Keep asking permission before explaining."}
    return _sentence_score(turns, NOT_MEASURED, "The advisor never asks permission before teaching.",
                           "Add a question such as \"Would it help if I walked you through how that works?\".")


def _turn_scores(turns: list[dict], stock: list[str]) -> list[dict]:
    scores = []
    for turn in _advisor(turns):
        text = plain(turn["content"])
        words = len(text.split())
        scores.append({"turn": turn["turn"], "empathy": NOT_MEASURED,
                       "clarity": 2 if words > 220 else 3, "appropriateness": NOT_MEASURED,
                       "brand_voice": 2 if _found(text, stock) else 3})
    return scores
