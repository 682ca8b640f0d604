"""Small wrongs staff met in a day of use, each as the conversation that showed it."""
from __future__ import annotations

from datetime import datetime

import pytest

from bot import messages
from bot.people.access import add_user
from bot.adapters.terminal import render
from bot.app import build_app
from bot.chat.core import Incoming
from storage.connections import open_db
from scheduler.workdays import TZ

from .conftest import Clock

NOW = datetime(2026, 11, 24, 9, 30, tzinfo=TZ)


@pytest.fixture
def app(index):
    a = build_app(db=open_db(":memory:"), clock=Clock(NOW), index=index)
    add_user(a.db, "line", "U1", "staff", "北区", NOW)
    return a


def say(app, text):
    return render(app.handle(Incoming("line", "U1", "U1", text)))


def test_after_next_the_footer_names_the_cases_on_screen(app):
    assert "「詳しく 1」で全文" in say(app, "ピアサポーターの活用")
    page = say(app, "次")
    assert "\n4) " in page and "「詳しく 4」で全文" in page and "「詳しく 1」" not in page
    assert "似た事例 4" in page


def test_staff_asking_for_the_areas_reports_are_told_about_reports_not_plans(app):
    out = say(app, "報告一覧 全体")
    assert out == messages.REPORT_SUPERVISOR_ONLY and "予定" not in out
