"""The voice profile of the firm's real conversations, against figures counted by hand.

The eight console-era files in ../shared/fixtures/real-seeds hold 8 conversations of 6-10 turns:
31 client messages and 31 advisor replies. Counted by hand from the files: advisor replies run
122 to 288 words (mean 215.5), client messages 43 to 144 (mean 81.7); 16 replies use **bold**,
9 a bulleted or numbered list, 18 end with a question; no reply names Marcus or Jennifer. Seven
replies open with "First", six with "I love that", four with "Okay", two with "Yes"; two
conversations end with "You've got this."
"""

from __future__ import annotations

from brightrun_gen.domain.quality import WordLimits
from brightrun_gen.domain.seedfiles import parse_seed_file
from brightrun_gen.domain.voice import VoiceSample, firm_word_limits, measure_voice, voice_lines
from tests.support.paths import REAL_SEEDS


def real_samples() -> list[VoiceSample]:
    records = [r for path in sorted(REAL_SEEDS.glob("*.json")) for r in parse_seed_file(path)]
    return [VoiceSample(r.key, [(t.role, t.content) for t in r.turns], [r.metadata["persona"]["name"]])
            for r in records]


PROFILE = measure_voice(real_samples())


def test_lengths_match_the_hand_count():
    assert PROFILE.conversations == 8
    assert (PROFILE.turns_per_conversation.min, PROFILE.turns_per_conversation.max) == (6, 10)
    a, c = PROFILE.advisor_words, PROFILE.client_words
    assert (a.count, a.min, a.max, a.mean, a.median) == (31, 122, 288, 215.5, 226.0)
    assert (c.count, c.min, c.max, c.mean, c.median) == (31, 43, 144, 81.7, 78.0)


def test_formatting_naming_openings_and_closings_match_the_hand_count():
    assert PROFILE.bold_share == round(16 / 31, 3) and PROFILE.list_share == round(9 / 31, 3)
    assert PROFILE.question_end_share == round(18 / 31, 3)
    assert PROFILE.named_replies == 0
    assert [(p.text, p.count) for p in PROFILE.openings] == [("First", 7), ("I love that", 6), ("Okay", 4), ("Yes", 2)]
    assert [(p.text, p.count) for p in PROFILE.closings] == [("You've got this.", 2)]


def test_naming_the_client_is_counted_when_it_happens():
    named = VoiceSample("x", [("user", "hi, I need help"), ("assistant", "Marcus, thank you for asking.")], ["Marcus Thompson"])
    assert measure_voice([named]).named_replies == 1


def test_the_firms_word_limits_span_its_real_turns():
    assert firm_word_limits(PROFILE) == WordLimits(client=(40, 150), advisor=(120, 290))


def test_the_prompt_lines_state_the_figures():
    text = "\n".join(voice_lines(PROFILE))
    assert "Advisor replies run 216 words on average" in text  # 215.5 said in whole words
    assert "52% of replies use **bold**" in text and "29% a bulleted or numbered list" in text
    assert "never addresses the client by name (0 of 31 replies)" in text
    assert '"First …" (7)' in text and "You've got this." in text
    assert voice_lines(None) == ["No voice profile has been measured yet (`brightrun voice`): follow the advisor "
                                 "profile's tone."]
