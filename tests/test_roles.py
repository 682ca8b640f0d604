"""Admins (the console's new role) see an area's visits and reports in chat as supervisors do."""
from __future__ import annotations

from bot.people.access import add_user
from bot.chat.core import Incoming

from .conftest import FIXED_NOW


def say(app, text: str, user: str) -> str:
    return "\n".join(getattr(r, "text", "") for r in app.handle(Incoming("line", user, user, text, direct=True)))


def test_an_admin_sees_the_areas_visits_and_reports_and_staff_do_not(app):
    for user, role in (("Ustaff", "staff"), ("Uadmin", "admin"), ("Usv", "supervisor")):
        add_user(app.db, "line", user, role, "千葉市", FIXED_NOW)
    say(app, "退院 K-077 11/20", "Ustaff")
    say(app, "はい", "Ustaff")
    say(app, "報告 訪問 K-077 服薬確認できた", "Ustaff")
    say(app, "確定", "Ustaff")
    for user in ("Uadmin", "Usv"):
        assert "K-077" in say(app, "予定 全体", user)
        assert "K-077" in say(app, "報告一覧 全体", user)
    assert "スーパーバイザー" in say(app, "予定 全体", "Ustaff")
    assert "K-077" not in say(app, "報告一覧 全体", "Ustaff")


def test_a_peer_in_the_console_sees_only_their_own_reports_and_no_list_of_people():
    """A peer supporter signed in (by a link from the CLI) filters like staff: never by area or by
    another person, and gets no list of names to choose from."""
    from bot.people.access import User
    from bot.console.queries import author_choices, read_filters
    from storage.connections import open_db
    db = open_db(":memory:")
    peer = User("line", "U" + "a" * 32, "peer", "北区")
    f = read_filters({"area": "南区", "author": "line:U" + "b" * 32}, peer, db)
    assert f.area == "" and f.author == "" and f.author_id is None
    assert author_choices(db, peer, f) == []
