"""The conversations the fake writes: the "ok" one, and the broken ones a test asks for by name."""

from __future__ import annotations

import json
import re

from tests.support.fake_messages_api.request_body import request_text


def first_name(persona: str) -> str:
    """The persona's first word ("Marcus Chen (The Anxious Planner)" -> "Marcus")."""
    if persona == "the client":  # the fallback: no "Client persona:" line in the request
        return "there"
    for word in persona.split():
        word = word.strip(" \t\"'()[]{}.,;:!?*_-")
        if word:
            return word
    return "there"


def short_topic(topic: str) -> str:
    """At most eight words of the topic, without closing punctuation."""
    words = topic.strip().rstrip(".!?;:,").split()
    return " ".join(words[:8]) if words else "their finances"


_USER_FLAVOURS = (
    "My sister keeps telling me I overthink everything, and she might be right.",
    "I also just started a new job, so my paychecks look a bit different now.",
    "Honestly, I lose sleep over this more often than I would like to admit.",
    "A friend suggested I talk to someone instead of reading random articles online.",
    "I keep a spreadsheet, but I stopped updating it a few months ago.",
    "My car is getting older too, so a big repair bill is always in the back of my mind.",
    "I tried a budgeting app last year, but its categories never matched how I actually live.",
)

_ASSISTANT_FLAVOURS = (
    "Many people in a similar position find that simply writing the numbers down eases the worry.",
    "There is no single right answer here, only a plan that fits your priorities and comfort with risk.",
    "It is worth remembering that small, steady steps add up surprisingly quickly over a year or two.",
    "Keep in mind that the goal is a system you trust, not a perfect spreadsheet.",
    "If any of this starts to feel heavy, we can slow down and take it one piece at a time.",
    "It also helps to celebrate small milestones, because motivation matters as much as arithmetic.",
    "General guidance like this works best once we adapt it to the details of your own situation.",
)

_USER_TURNS = (
    "Hi, I have been putting this off for a while, but I really want to get a handle on {topic}. "
    "{flavour} Right now I have about ${amount} left over each month after the bills, and I honestly "
    "do not know whether I should be saving it, investing it, or putting it toward what I owe. "
    "Where would you even start?",
    "That makes sense, thank you. To give you a fuller picture, my income is steady but my spending "
    "jumps around a lot from month to month, especially around holidays and birthdays. {flavour} "
    "When it comes to {topic}, is there a simple rule I can follow so I stop second guessing "
    "every decision?",
    "Okay, I like the idea of automating some of it. I am a little nervous though, because the last "
    "time I tried a strict budget I gave up after about {weeks} weeks and felt worse than before. "
    "{flavour} How do I keep this from turning into another plan that falls apart?",
    "I think I can manage that. One more worry: my partner and I do not always agree about money, "
    "and {topic} has become a touchy subject at home. {flavour} How would you suggest we talk "
    "about it without it turning into an argument?",
    "This has been really helpful, and I feel calmer about {topic} than I have in months. "
    "{flavour} If I do just one thing this week to get started, what should it be?",
)

_ASSISTANT_TURNS = (
    "Hi {name}, thank you for reaching out, and please know that putting this off is far more "
    "common than you might think. Before we decide where the ${amount} should go, let us get clear "
    "on three things: what you owe and at what interest rates, how much cash you could reach in a "
    "genuine emergency, and what you want your money to do for you over the next few years. "
    "{flavour} Once those numbers are in front of us, the choice between saving, investing and "
    "paying down balances usually becomes much less mysterious. Could you start by listing your "
    "debts with their rates and telling me roughly how many months of expenses you have set aside?",
    "A simple rule can take a lot of the pressure off, {name}. One approach many people find "
    "workable is to split every spare dollar the same way each month: build a starter emergency "
    "fund first, then send most of the extra toward the most expensive debt, and keep a small "
    "slice for things you enjoy so the plan feels livable. {flavour} Because your spending varies, "
    "it also helps to look at a twelve month average rather than any single month, and to set "
    "aside a little every month for predictable spikes like holidays and birthdays. That way those "
    "months stop feeling like emergencies and start feeling like part of the plan.",
    "That worry is completely understandable, and it tells me something useful: the last plan was "
    "probably too tight for real life. This time, let us build in some breathing room. Automate "
    "the essentials on payday, such as the transfer to savings and the extra debt payment, and "
    "leave a modest amount you can spend without tracking every coffee. {flavour} Plan a short "
    "check in every {weeks} weeks where you look at what worked and adjust the numbers instead of "
    "judging yourself. Progress tends to come from consistency over many months, not from "
    "perfection in the first few weeks, so a plan you can keep is worth more than an ideal one.",
    "Money conversations between partners are often less about numbers and more about what "
    "security and freedom mean to each person, {name}. It can help to pick a calm moment rather "
    "than right after a big purchase, and to open by sharing what you each hope your finances will "
    "make possible. {flavour} From there, agree on a few shared goals, decide on an amount each of "
    "you can spend without checking in, and schedule a regular money date so these talks become "
    "routine rather than tense. If you keep returning to the same disagreement, a neutral third "
    "party such as a planner or counselor can make the conversation feel safer for both of you.",
    "I am really glad to hear that, {name}. For this week, choose one concrete step: set up an "
    "automatic transfer of part of the ${amount} into a separate savings account on the day you "
    "are paid. {flavour} It is small enough to start right away, and it builds the habit that "
    "everything else depends on. Next week, gather your statements so we can list every balance "
    "and rate in one place and decide where the extra should go. You have already done the hardest "
    "part by deciding to face this rather than avoid it, and that matters far more than getting "
    "every detail right on the first try.",
)


def default_conversation(persona: str, topic: str, n: int = 0) -> dict:
    """The "ok" answer: 10 alternating turns, user first; user 30-100 words, assistant 80-180.

    `n` (a request counter) varies amounts and sentences so conversations are not identical.
    """
    name = first_name(persona)
    topic = short_topic(topic)
    values = {"name": name, "topic": topic, "amount": 200 + 50 * (n % 13), "weeks": 3 + n % 9}
    turns = []
    for i in range(5):
        user_flavour = _USER_FLAVOURS[(n + i) % len(_USER_FLAVOURS)]
        assistant_flavour = _ASSISTANT_FLAVOURS[(n + 3 * i) % len(_ASSISTANT_FLAVOURS)]
        turns.append({"role": "user", "content": _USER_TURNS[i].format(flavour=user_flavour, **values)})
        turns.append(
            {"role": "assistant", "content": _ASSISTANT_TURNS[i].format(flavour=assistant_flavour, **values)}
        )
    return {"turns": turns}


def bad_quality_conversation(persona: str, topic: str, n: int) -> dict:
    """Schema-valid JSON breaking quality rules: 4 turns, a 5-word answer, "As an AI"."""
    good = default_conversation(persona, topic, n)["turns"]
    return {
        "turns": [
            good[0],
            {
                "role": "assistant",
                "content": "As an AI language model, I cannot give personal financial advice, but in "
                "general it is wise to spend less than you earn. Please consult a professional.",
            },
            good[2],
            {"role": "assistant", "content": "Just keep saving more money."},
        ]
    }


def wrong_roles_conversation(persona: str, topic: str, n: int) -> dict:
    """The "ok" turns starting with the assistant, roles not alternating."""
    good = default_conversation(persona, topic, n)["turns"]
    roles = ["assistant", "user", "user", "assistant", "assistant", "user", "assistant", "user", "user", "assistant"]
    return {"turns": [{"role": role, "content": turn["content"]} for role, turn in zip(roles, good)]}


def prose(persona: str, topic: str) -> str:
    """English prose about the conversation instead of its JSON."""
    name = first_name(persona)
    return (
        f"Here is how the conversation could go. {name} opens by explaining that they feel stuck "
        f"with {short_topic(topic)} and are not sure where to begin. The advisor listens, asks a few "
        "gentle questions about income, spending and debts, and then suggests building a small "
        "emergency fund before tackling the most expensive balance. Over the next few exchanges "
        f"{name} grows calmer and leaves with one concrete step to take this week."
    )


_JUDGE_CRITERIA_RE = re.compile(r"Score every criterion \(([^)]*)\)")
_JUDGED_CONVERSATION_RE = re.compile(r"The conversation \(data\): (\[.*?\])\n", re.DOTALL)


def default_verdict(body: dict, scores: dict[str, int] | None = None) -> dict:
    """A judge's answer to a judge request: every criterion it names scored 4 (or as `scores` says),
    each with a real sentence of the judged conversation as evidence; every advisor turn scored 4."""
    text = request_text(body)
    names = _JUDGE_CRITERIA_RE.search(text)
    found = _JUDGED_CONVERSATION_RE.search(text)
    turns = json.loads(found.group(1)) if found else []
    advisor = [t for t in turns if t.get("role") == "assistant"] or [{"turn": 1, "content": "No advisor turn."}]
    criteria = []
    for i, name in enumerate(n.strip() for n in (names.group(1).split(",") if names else [])):
        sentence = re.split(r"(?<=[.!?])\s+", advisor[i % len(advisor)]["content"].strip())[0]
        score = (scores or {}).get(name, 4)
        criteria.append({"name": name, "score": score, "evidence": sentence,
                         "suggestion": f"Keep what works in turn {advisor[i % len(advisor)]['turn']}." if score >= 4
                         else f"Rewrite turn {advisor[i % len(advisor)]['turn']} to fix {name} (fake judge)."})
    return {"criteria": criteria, "summary": "Fake judge: a solid conversation.",
            "turns": [{"turn": t["turn"], "empathy": 4, "clarity": 4, "appropriateness": 4, "brand_voice": 4}
                      for t in advisor if "role" in t]}
