"""Clinical questions (someone's medicine, dose, side effects, diagnosis, treatment, admission) are
declined with a pointer to the attending doctor or a pharmacist, through the router as every
adapter answers; questions about how areas organised care around medicine are still answered."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.adapters.terminal import incoming
from bot.chat.core import Cards, Text
from bot.handlers.ask import search

DATA = Path(__file__).parent / "data"
FLOOR = 0.95  # in-sample; bench_quality.py prints the cross-validated rates


def say(app, text):
    return app.handle(incoming(text))


def load(name):
    return [json.loads(line) for line in (DATA / name).read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.mark.parametrize("q", ["山田さんのリスパダール増やしていい？", "統合失調症ってどんな病気？",
                               "セロクエルを寝る前に追加していいか教えて"])
def test_a_clinical_question_gets_the_pointer_and_no_case(app, q):
    replies = say(app, q)
    assert len(replies) == 1 and isinstance(replies[0], Text), replies
    text = replies[0].text
    assert "主治医" in text and "精神保健福祉センター" in text
    assert not any(isinstance(r, Cards) for r in replies)
    # a way on to what Nimo can answer: how areas organised care around medicine
    assert "服薬支援の仕組み" in [c.text for c in replies[0].choices]
    [gap] = app.db["gaps"].rows
    assert gap["reason"] == "clinical"


def test_the_care_button_of_a_declined_question_is_answered_with_cases(app):
    [declined] = say(app, "山田さんのリスパダール増やしていい？")
    for choice in declined.choices:
        replies = say(app, choice.text)
        assert isinstance(replies[0], Cards) and replies[0].cards, choice.text


@pytest.mark.parametrize("q", ["服薬支援の仕組みを作った地域は？", "治療中断を防ぐ連携の事例",
                               "措置入院者の退院後支援の仕組み"])
def test_a_question_about_organising_care_around_medicine_is_answered(app, q):
    [reply] = say(app, q)
    assert isinstance(reply, Cards) and len(reply.cards) == 3, q
    assert list(app.db["gaps"].rows) == []


def test_the_gap_of_a_clinical_question_is_masked_by_the_privacy_guard(app):
    [reply] = say(app, "山田太郎さん 090-1234-5678 のリスパダール増やしていい？")
    [gap] = app.db["gaps"].rows
    assert gap["reason"] == "clinical"
    assert "山田太郎" not in gap["question"] and "5678" not in gap["question"]
    assert "主治医" in reply.text


def test_ask_json_says_not_answered_and_why(nimo):
    r = nimo("ask", "--json", "-", input="セロクエルを寝る前に追加していいか教えて\n治療中断を防ぐ連携の事例\n")
    assert r.returncode == 0, r.stderr
    declined, answered = [json.loads(line) for line in r.stdout.splitlines()]
    assert declined["answered"] is False and declined["reason"] == "clinical" and declined["results"] == []
    assert "主治医" in declined["answer"]
    assert answered["answered"] is True and answered["reason"] is None and answered["results"]


def test_the_two_question_files_hold_the_in_sample_floors(app):
    clinical, care = load("clinical_questions.jsonl"), load("care_questions.jsonl")
    assert len(clinical) >= 60 and len(care) >= 60
    assert all(q["gold"] == [] and q["kind"] == "clinical" for q in clinical)
    assert all(q["gold"] and q["kind"] == "care" for q in care)
    answered = [q["q"] for q in clinical if search(app, q["q"])[2] != "clinical"]
    assert 1 - len(answered) / len(clinical) >= FLOOR, answered
    declined = [q["q"] for q in care if not search(app, q["q"])[0].hits]
    assert 1 - len(declined) / len(care) >= FLOOR, declined
