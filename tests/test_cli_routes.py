"""``nimo routes``: the routes in the order they are tried, and ``--explain "TEXT"``: which route takes
a text and why, worked out by sending it through the real router in a scratch database (the one
named by ``NIMO_DB`` is never opened)."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.handlers import GROUPS, registry


@pytest.fixture
def nimo(tmp_path, monkeypatch):
    monkeypatch.setenv("NIMO_DB", str(tmp_path / "nimo.db"))
    runner = CliRunner()

    def run(*args: str, ok: bool = True) -> str:
        r = runner.invoke(main, list(args))
        assert (r.exit_code == 0) == ok, r.output
        assert "Traceback" not in r.output and (r.exception is None or isinstance(r.exception, SystemExit))
        return r.output
    run.db_path = tmp_path / "nimo.db"
    return run


def test_routes_lists_every_route_in_the_order_they_are_tried(nimo):
    out = nimo("routes")
    headers = [out.index(f"] {g.name}: ") for g in GROUPS]
    assert headers == sorted(headers)
    places = [out.index(f". {r.name}  ") for r in registry().routes]
    assert places == sorted(places)
    assert "shape → safety_net → public_routes → registered" in out and "direct_only → role" in out
    assert "入力中の会話 report" in out and "report_stop" in out
    assert not nimo.db_path.exists()


def test_explain_names_the_route_its_group_its_pattern_and_the_rule_that_refuses(nimo):
    out = nimo("routes", "--explain", "予定 全体")
    assert out.splitlines()[1].startswith("→ listing_area（グループ 5/9 reminders")
    assert "言葉が次のどれか: 予定 全体 / 予定全体 / 地域の予定" in out
    assert "役割: supervisor, admin" in out and "1対1のトークのみ" in out
    assert "利用の条件 role で断られる" in out and "スーパーバイザー" in out
    assert "listing, case_visits, case_visits_asked: 合わない" in out  # tried before it
    out = nimo("routes", "--explain", "予定 全体", "--role", "supervisor")
    assert "断られる" not in out and "ルート listing_area: 受けた" in out
    out = nimo("routes", "--explain", "予定 全体", "--role", "supervisor", "--group-chat")
    assert "利用の条件 direct_only で断られる" in out
    assert not nimo.db_path.exists()


def test_explain_says_which_route_declined_before_the_one_that_took(nimo):
    out = nimo("routes", "--explain", "取消 の仕方")
    assert out.splitlines()[1].startswith("→ command_hint（グループ 7/9 hints")
    assert "ルート act: 合ったが譲った（次を試す）" in out


def test_explain_with_context_a_dialog_a_button_and_an_unregistered_sender(nimo):
    assert "→ 入力中の会話 report が受ける" in nimo("routes", "--explain", "次", "--after", "報告")
    out = nimo("routes", "--explain", "はい", "--after", "リマインド 明日9時 会議", "--button")
    assert "→ confirm（" in out and "登録しました" in out
    out = nimo("routes", "--explain", "予定", "--role", "unregistered")
    assert "→ (registration)" in out and "未登録" in out
    out = nimo("routes", "--explain", "登録 ABCD2345", "--role", "unregistered", "--platform", "slack")
    assert "→ register（グループ 2/9 registration" in out and "登録の確認より前" in out
    assert "→ question（" in nimo("routes", "--explain", "家族会との連携", "--platform", "terminal")


@pytest.mark.parametrize("odd", ["", "   ", "a\x00b\x1b[31m", "あ" * 6000, "\u0301" * 300, "ﷺ" * 400, "\ud800"])
def test_odd_text_is_explained_never_a_traceback(nimo, odd):
    out = nimo("routes", "--explain", odd)
    assert out.splitlines()[1].startswith("→ ")


def test_context_options_without_a_text_are_refused_in_japanese(nimo):
    out = nimo("routes", "--after", "報告", ok=False)
    assert "--explain と一緒に使います" in out
