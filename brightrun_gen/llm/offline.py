"""A deterministic generator that needs no key and no network, labelled `offline` everywhere.

It answers exactly like the API would (JSON text in the conversation schema, annotations
included), so its output goes through the same validation, scoring and saving path as Claude's.
Its annotations are placeholders: the planned start emotion fading into the planned end one,
and each canned reply's strategy; they are stored as `offline` and shown as such.
"""

from __future__ import annotations

import hashlib
import json
import random

from brightrun_gen.domain.vocabulary import OFFLINE_MODEL
from brightrun_gen.domain.pricing import Usage
from brightrun_gen.domain.prompts import RenderedPrompt
from brightrun_gen.llm.base import Answer, StructuredPrompt


_OPENERS = (
    "Hi Elena, I have to be honest, I've been putting this off for weeks because thinking about {topic} makes me feel {start}. ",
    "Elena, thanks for making time. Lately {topic} has been on my mind constantly and I mostly feel {start} about it. ",
    "Hello Elena. I finally decided to ask someone about {topic}, because feeling {start} about it is wearing me down. ",
)
_USER_OPENING = ("When I look at the numbers I freeze, and then I feel worse for not acting sooner. My partner asks what the "
                 "plan is and I change the subject. I know that is not helping anyone, least of all me.")
_USER_MIDDLE = (
    "I have read a lot online, but every article says something different, and I end up more confused than when I started. I would like one clear next step that fits my actual situation.",
    "Part of me thinks I should already know this at my age. Another part of me just wants someone to tell me it is going to be okay and show me where to begin without judging me.",
    "The amounts involved are not tiny for us, so a mistake would really hurt. I would rather go slowly and understand each piece than rush into something I regret later.",
    "That helps. Can I ask what you would look at first if you were in my shoes? I keep jumping between three different worries and never finish thinking about any of them.",
    "Okay, I pulled up the statements while we were talking. Some of the numbers are better than I feared and a couple are worse. Which ones matter most for what we are deciding?",
    "I talked to my family about this last night and they had a lot of opinions. Honestly it made me second-guess the whole thing again. How do I know which advice actually fits me?",
)
_ADVISOR_MIDDLE = (
    "Thank you for telling me that. Feeling {start} about {topic} is far more common than you might think, and it usually means you care about getting it right, not that you are behind. Before we look at any numbers, may I ask what a good outcome would look like for you a year from now? Knowing that helps me keep our plan about your priorities rather than generic rules.",
    "That makes a lot of sense. Let's slow this down and take one piece at a time. With {topic}, the first question is usually how much flexibility you need in the next twelve months. If we set aside three to six months of essential expenses first, say around $12,000 to $18,000 for many families, everything else becomes less frightening. Would it be okay if I walked you through how that cushion changes the picture?",
    "I really appreciate how honest you are being. Here is a simple way to think about {topic}: picture two buckets, one for safety and one for growth. The safety bucket protects you from surprises; the growth bucket works quietly in the background. Most of the stress you described comes from not knowing which bucket each dollar belongs in. Which part of that feels most unclear right now?",
    "You are asking exactly the right questions. None of this is about being perfect. If we pick one action you can finish in the next two weeks, like automating $200 a month or gathering your last three statements, you build momentum instead of pressure. What feels realistic for you, given everything else going on at home and at work?",
    "If I were sitting across the table from you, I would start with the one number that changes everything else: what you need to keep your household running for a month. Once that is written down, {topic} stops being a cloud of worries and becomes a short list of choices. Would you be willing to jot that number down before we go further?",
    "Good, let's look at them together. The numbers that matter most right now are the ones you have to act on soon, not the ones that simply look big. For {topic}, that usually means the next twelve months of cash needs first and long-term balances second. Which of the figures in front of you is due or changing soonest?",
    "Family opinions come from love, and they also come from their own situations, which are not yours. A useful test is to ask whether a piece of advice fits your income, your timeline and your comfort with risk. If it fails one of those three, it can be good advice for them and still wrong for you. Would it help to run one of their suggestions through that test together?",
)
# The strategy each canned advisor reply follows, in the order of _ADVISOR_MIDDLE and _ADVISOR_CLOSE.
_MIDDLE_STRATEGIES = (
    "normalize the feeling, then ask what a good outcome looks like",
    "slow down and size a safety cushion with concrete numbers",
    "explain with a two-bucket metaphor and check what is unclear",
    "pick one small action for the next two weeks",
    "start from the one number that changes everything else",
    "look at the numbers that must be acted on soon first",
    "separate family opinions from the client's own situation",
)
_CLOSE_STRATEGIES = (
    "celebrate the progress and set a dated three-step plan",
    "reflect the change back and book the next check-in",
)
_USER_CLOSE = (
    "Okay, that actually feels doable. I think I was making it bigger in my head than it needs to be. If I gather the statements this weekend and we set up the automatic transfer, I will feel like I am finally moving instead of worrying about {topic}.",
    "Hearing it broken down like that helps a lot. I feel more {end} than when we started, honestly. Can we check in after I have done the first step, so I do not drift back into avoiding {topic}?",
)
_ADVISOR_CLOSE = (
    "I am genuinely glad we did this. Going from {start} to feeling {end} in one conversation is real progress, and it came from you being willing to look at {topic} directly. Here is our plan: this week you gather the three statements, next week we set up the $200 automatic transfer together, and in a month we review how it feels. Small, steady steps like these are exactly how lasting confidence is built, and I will be with you for each one.",
    "That is a wonderful place to land. You came in feeling {start}, and now you have a clear next step for {topic} and a date to check in. Let's put it on the calendar: by Friday you send me your statements, and on our next call we will turn them into a simple one-page plan. Remember, progress beats perfection every time, and you have already made the hardest move by starting this conversation.",
)
DEFAULT_TURNS = 10


def _target_turns(parameters: dict) -> int:
    """The row's target turn count, even and within what the texts above can fill."""
    wanted = str(parameters.get("target_turns", DEFAULT_TURNS))
    turns = int(wanted) if wanted.isdigit() else DEFAULT_TURNS
    return max(4, min(turns - turns % 2, 2 * (len(_USER_MIDDLE) + 2)))


def _script(rng: random.Random, turns: int) -> list[tuple[str, str, str | None]]:
    """Client opening, alternating middles, client close, advisor close: `turns` turns in all, as
    (role, text, strategy); the strategy of an advisor turn, None for the client's."""
    middles = turns // 2 - 1
    advisor = rng.sample(list(zip(_ADVISOR_MIDDLE, _MIDDLE_STRATEGIES)), k=middles)
    user = rng.sample(_USER_MIDDLE, k=middles - 1)
    script: list[tuple[str, str, str | None]] = [("user", rng.choice(_OPENERS) + _USER_OPENING, None)]
    for i, (text, strategy) in enumerate(advisor):
        script.append(("assistant", text, strategy))
        script.append(("user", user[i] if i < len(user) else rng.choice(_USER_CLOSE), None))
    close = rng.randrange(len(_ADVISOR_CLOSE))
    script.append(("assistant", _ADVISOR_CLOSE[close], _CLOSE_STRATEGIES[close]))
    return script


def _placeholder_emotion(parameters: dict, index: int, clients: int) -> dict:
    """The planned start emotion for the first half of the client turns, the end one after,
    with an intensity easing from 0.8 to 0.4: placeholders, not a reading of the text."""
    share = index / max(clients - 1, 1)
    shown = parameters.get("emotion_start" if share < 0.5 else "emotion_end") or ""
    emotion = shown.lower().replace(" ", "_") or None  # the prompt shows the name; the catalog key is its lower case
    return {"emotion": emotion, "intensity": round(0.8 - 0.4 * share, 2), "confidence": 0.5}


class OfflineProvider:
    name = "offline"
    model = OFFLINE_MODEL
    account = None  # no rate limits to pace to

    def generate(self, prompt: RenderedPrompt) -> Answer:
        p = prompt.parameters
        seed = int(hashlib.sha256(json.dumps(p, sort_keys=True).encode()).hexdigest()[:12], 16)
        rng = random.Random(seed)
        words = {
            "topic": p.get("topic", "this").lower(),
            "start": p.get("emotion_start", "uneasy").lower(),
            "end": p.get("emotion_end", "calm").lower(),
        }
        script = _script(rng, _target_turns(p))
        clients = sum(role == "user" for role, _, _ in script)
        body = {"turns": []}
        for role, text, strategy in script:
            turn = {"role": role, "content": text.format(**words)}
            if role == "user":
                turn.update(_placeholder_emotion(p, sum(t["role"] == "user" for t in body["turns"]), clients))
            else:
                turn["strategy"] = strategy
            body["turns"].append(turn)
        text = json.dumps(body, ensure_ascii=False)
        usage = Usage(input_tokens=self.count_tokens(prompt), output_tokens=len(text) // 4, calls=1)
        return Answer(text=text, stop_reason="end_turn", model=OFFLINE_MODEL, usage=usage)

    def count_tokens(self, prompt: RenderedPrompt) -> int:
        return (len(prompt.system) + len(prompt.context) + len(prompt.request)) // 4

    def structured(self, prompt: StructuredPrompt) -> Answer:
        text = prompt.offline_answer().model_dump_json()
        return Answer(text=text, stop_reason="end_turn", model=OFFLINE_MODEL,
                      usage=Usage(input_tokens=len(prompt.request) // 4, output_tokens=len(text) // 4))
