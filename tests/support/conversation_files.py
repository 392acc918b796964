"""Conversation files a test writes: a seed's dimensions with the turns the test chooses."""

from __future__ import annotations

import json
import random
from pathlib import Path

from tests.support.paths import REPO

SEED_01 = REPO / "seeds" / "conversations" / "seed_01_marcus_401k_match.json"


def light_rewrite(turns: list[dict], seed: int = 1) -> list[dict]:
    """A few words changed in a few turns, as a person retouching a conversation would."""
    rng = random.Random(seed)
    turns = [dict(turn) for turn in turns]
    for index in rng.sample(range(len(turns)), 3):
        words = turns[index]["content"].split()
        for position in rng.sample(range(len(words)), 3):
            words[position] = "retouched"
        turns[index]["content"] = " ".join(words)
    return turns


def conversation_file(tmp_path: Path, key: str, turns: list[dict], source: str = "import",
                      model: str | None = None) -> Path:
    """A Bright Run file with one conversation: seed_01's dimensions, the given turns."""
    document = json.loads(SEED_01.read_text(encoding="utf-8"))
    [conversation] = document["conversations"]
    metadata = {"generation": {"model": model}} if model else {}
    document["conversations"] = [{**conversation, "key": key, "source": source, "turns": turns, "metadata": metadata}]
    path = tmp_path / f"{key}.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def seed_01_turns() -> list[dict]:
    return json.loads(SEED_01.read_text(encoding="utf-8"))["conversations"][0]["turns"]
