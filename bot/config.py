"""Settings from the environment, declared once with a default and a help line each.

The README documents every setting (a test checks it), so a new deployment has one list to read.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Setting:
    name: str
    default: str | None
    help: str


def _default_db() -> str:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return str(Path(base) / "nimo" / "nimo.db")


SETTINGS: tuple[Setting, ...] = (
    Setting("NIMO_DB", None, "SQLite ファイルの場所。既定は ~/.local/share/nimo/nimo.db（XDG_DATA_HOME があればその下）"),
    Setting("NIMO_NEW_DB", None, "1 にすると、NIMO_DB が空（0バイト）や別のファイルのとき、それを別名で残して新しいデータベースを作る（既定は起動しない）"),
    Setting("NIMO_BACKUP_DIR", None, "毎日のバックアップを置くフォルダ（nimo worker が1日1回作る）。未設定なら作らない"),
    Setting("NIMO_BACKUP_KEEP", "7", "毎日のバックアップを残す数（古いものから消す）"),
    Setting("PORT", "8000", "nimo serve が待ち受けるポート"),
    Setting("NIMO_WORKERS", "4", "LINE のイベントを処理するスレッドの数"),
    Setting("LINE_CHANNEL_SECRET", None, "LINE のチャネルシークレット（署名の検証に使う）"),
    Setting("LINE_CHANNEL_ACCESS_TOKEN", None, "LINE のチャネルアクセストークン（長期）"),
    Setting("LINE_API_BASE_URL", "https://api.line.me", "LINE Messaging API の URL（テストやプロキシで差し替える）"),
    Setting("LINE_API_DATA_BASE_URL", "https://api-data.line.me", "LINE のデータ用 API（リッチメニュー画像）の URL"),
    Setting("SLACK_SIGNING_SECRET", None, "Slack アプリの Signing Secret（署名の検証に使う）"),
    Setting("SLACK_BOT_TOKEN", None, "Slack の Bot User OAuth Token（xoxb-…）"),
    Setting("SLACK_APP_TOKEN", None, "Slack の App-Level Token（xapp-…、Socket Mode のときだけ）"),
    Setting("SLACK_API_BASE_URL", "https://slack.com/api/", "Slack Web API の URL（テストやプロキシで差し替える）"),
    Setting("NIMO_PUBLIC_URL", None, "Nimo の公開 URL（例：https://nimo.example.jp）。管理画面のログインリンクに使う。https ならクッキーを Secure にする"),
    Setting("NIMO_SUMMARY_SLACK_CHANNEL", None, "報告の週次まとめ（と8週間のグラフ）を送る Slack チャンネルID（C…）"),
    Setting("NIMO_SUMMARY_LINE_GROUP", None, "報告の週次まとめを送る LINE グループID（C…）"),
    Setting("LINEWORKS_BOT_ID", None, "LINE WORKS の Bot ID（Developer Console の Bot 画面の数字）"),
    Setting("LINEWORKS_BOT_SECRET", None, "LINE WORKS の Bot Secret（Callback の署名の検証に使う）"),
    Setting("LINEWORKS_CLIENT_ID", None, "LINE WORKS のアプリの Client ID"),
    Setting("LINEWORKS_CLIENT_SECRET", None, "LINE WORKS のアプリの Client Secret"),
    Setting("LINEWORKS_SERVICE_ACCOUNT", None, "LINE WORKS の Service Account（…serviceaccount@…）"),
    Setting("LINEWORKS_PRIVATE_KEY", None, "LINE WORKS の Private Key（PEM ファイル）の場所"),
    Setting("LINEWORKS_API_BASE_URL", "https://www.worksapis.com/v1.0", "LINE WORKS API 2.0 の URL（テストやプロキシで差し替える）"),
    Setting("LINEWORKS_AUTH_URL", "https://auth.worksmobile.com/oauth2/v2.0/token",
            "LINE WORKS のアクセストークンを受け取る URL（テストやプロキシで差し替える）"),
    Setting("NIMO_SUMMARY_LINEWORKS_CHANNEL", None, "報告の週次まとめを送る LINE WORKS のトークルームID（channelId）"),
)
SECRETS = {"LINE_CHANNEL_SECRET", "LINE_CHANNEL_ACCESS_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_BOT_TOKEN",
           "SLACK_APP_TOKEN", "LINEWORKS_BOT_SECRET", "LINEWORKS_CLIENT_SECRET"}


def all_settings(env: dict | None = None) -> dict[str, str | None]:
    return {s.name: get(s.name, env) for s in SETTINGS}


def flag(name: str, env: dict | None = None) -> bool:
    """A yes/no setting: 1, true, yes or on (any case) is yes."""
    return (get(name, env) or "").strip().lower() in ("1", "true", "yes", "on")


def get(name: str, env: dict | None = None) -> str | None:
    env = os.environ if env is None else env
    for s in SETTINGS:
        if s.name == name:
            value = env.get(name) or s.default
            if name == "NIMO_DB" and not value:
                value = _default_db()
            return value
    raise KeyError(name)
