from __future__ import annotations

import itertools

from lakehouse.core.rag.chunking import chunk_document, sections

BODY = """Intro line before any heading.

## Late feed

Check the landing folder first.

Then check the Bronze checkpoint.

## Replay a day

""" + " ".join(f"Step {n} replays part {n} of the day." for n in range(1, 80))


def test_sections_follow_headings_in_order() -> None:
    assert [heading for heading, _ in sections(BODY)] == ["", "Late feed", "Replay a day"]


def test_chunks_stay_within_size_and_carry_title_and_section() -> None:
    chunks = chunk_document("Jarvis runbook", BODY, max_chars=400, overlap_chars=80)
    assert [c.index for c in chunks] == list(range(len(chunks)))
    assert chunks[0].text.startswith("Jarvis runbook\nIntro line")
    assert chunks[1].text.startswith("Jarvis runbook > Late feed\n")
    replay = [c for c in chunks if c.section == "Replay a day"]
    assert len(replay) > 3
    for chunk in replay:
        body = chunk.text.split("\n", 1)[1]
        assert len(body) <= 400
        assert "Late feed" not in body  # never spans two sections


def test_consecutive_chunks_of_a_section_overlap_and_lose_nothing() -> None:
    chunks = [c for c in chunk_document("T", BODY, max_chars=400, overlap_chars=80) if c.section == "Replay a day"]
    bodies = [c.text.split("\n", 1)[1] for c in chunks]
    for before, after in itertools.pairwise(bodies):
        head = after.split("\n\n")[0] if "\n\n" in after else after[:40]
        assert before.endswith(head[:30]) or head[:30] in before
    text = " ".join(bodies)
    for n in range(1, 80):
        assert f"Step {n} replays part {n} of the day." in text


def test_a_word_longer_than_a_chunk_is_cut_not_lost() -> None:
    chunks = chunk_document("T", "x" * 950, max_chars=400, overlap_chars=50)
    assert "".join(c.text.split("\n", 1)[1] for c in chunks).count("x") >= 950
