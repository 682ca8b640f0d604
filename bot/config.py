"""Settings from the environment, declared once with a default and a help line each, and read
once: :meth:`Settings.from_env` makes the one typed :class:`Settings` the commands pass on (to the
web app, the worker, the adapters, the console).  No other module reads the environment, and
whether a platform is on is decided here only (``line_on``, ``slack_on``, ``lineworks_on``).

The README documents every setting (a test checks it), so a new deployment has one list to read.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from bot import messages


@dataclass(frozen=True)
class Setting:
    name: str
    default: str | None
    help: str

    @property
    def attr(self) -> str:
        """Its name on :class:`Settings`: lower case, without ``NIMO_`` (``NIMO_DB`` → ``db``)."""
        return self.name.lower().removeprefix("nimo_")


def _default_db(env: Mapping[str, str]) -> str:
    base = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
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
    Setting("LINE_API_DATA_BASE_URL", "https://api-data.line.me", "LINE のデータ用 API（写真の受け取り・リッチメニュー画像）の URL。未設定で LINE_API_BASE_URL を変えたときは、それと同じ URL"),
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
NUMBERS = {"PORT", "NIMO_WORKERS", "NIMO_BACKUP_KEEP"}  # whole numbers, 1 or more
FLAGS = {"NIMO_NEW_DB"}                                 # yes/no: 1, true, yes or on (any case) is yes
LINE_REQUIRED = ("LINE_CHANNEL_SECRET", "LINE_CHANNEL_ACCESS_TOKEN")
SLACK_REQUIRED = ("SLACK_SIGNING_SECRET", "SLACK_BOT_TOKEN")
LINEWORKS_REQUIRED = ("LINEWORKS_BOT_ID", "LINEWORKS_BOT_SECRET", "LINEWORKS_CLIENT_ID", "LINEWORKS_CLIENT_SECRET",
                      "LINEWORKS_SERVICE_ACCOUNT", "LINEWORKS_PRIVATE_KEY")
LINE_API = "https://api.line.me"


class SettingError(ValueError):
    """A setting that cannot be used as it is (the message, in Japanese, names it)."""


def _secret():
    return field(default=None, repr=False)  # never in a log line or a traceback


@dataclass(frozen=True)
class Settings:
    """Every setting, typed.  Built once (:meth:`from_env`) and passed in; in tests, built from a
    dict with only what the test needs."""

    db: str
    new_db: bool
    backup_dir: str | None
    backup_keep: int
    port: int
    workers: int
    line_api_base_url: str
    line_api_data_base_url: str
    slack_api_base_url: str
    public_url: str | None
    summary_slack_channel: str | None
    summary_line_group: str | None
    lineworks_bot_id: str | None
    lineworks_client_id: str | None
    lineworks_service_account: str | None
    lineworks_private_key: str | None
    lineworks_api_base_url: str
    lineworks_auth_url: str
    summary_lineworks_channel: str | None
    line_channel_secret: str | None = _secret()
    line_channel_access_token: str | None = _secret()
    slack_signing_secret: str | None = _secret()
    slack_bot_token: str | None = _secret()
    slack_app_token: str | None = _secret()
    lineworks_bot_secret: str | None = _secret()
    lineworks_client_secret: str | None = _secret()

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """From ``env`` (``os.environ`` for the commands): an empty value counts as unset.  Raises
        :class:`SettingError` for a number that is not one."""
        raw = all_settings(env)
        return cls(**{s.attr: _typed(s.name, raw[s.name]) for s in SETTINGS})

    def value(self, name: str) -> str | None:
        """A setting by its environment name, as text (what ``nimo serve --check`` looks at)."""
        v = getattr(self, _ATTRS[name])
        return None if v is None or v is False else str(v)

    @property
    def line_on(self) -> bool:
        return all(self.value(n) for n in LINE_REQUIRED)

    @property
    def slack_on(self) -> bool:
        return all(self.value(n) for n in SLACK_REQUIRED)

    @property
    def lineworks_on(self) -> bool:
        """The six settings LINE WORKS needs are there (whether its key can be read is the worker's
        to find out, and ``nimo serve --check``'s to say)."""
        return all(self.value(n) for n in LINEWORKS_REQUIRED)

    @property
    def summary_to(self) -> dict[str, str | None]:
        """Where the weekly summary of reports goes, by platform."""
        return {"slack": self.summary_slack_channel, "line": self.summary_line_group,
                "lineworks": self.summary_lineworks_channel}


_ATTRS = {s.name: s.attr for s in SETTINGS}


def all_settings(env: Mapping[str, str]) -> dict[str, str | None]:
    """Every setting as the text in ``env``, or its default when unset or empty (what ``nimo serve
    --check`` shows, and what :meth:`Settings.from_env` reads)."""
    out = {s.name: env.get(s.name) or s.default for s in SETTINGS}
    out["NIMO_DB"] = out["NIMO_DB"] or _default_db(env)
    if not env.get("LINE_API_DATA_BASE_URL") and out["LINE_API_BASE_URL"].rstrip("/") != LINE_API:
        # LINE's content lives on a host of its own; a stand-in or proxy that moves the API moves both
        out["LINE_API_DATA_BASE_URL"] = out["LINE_API_BASE_URL"]
    return out


def _typed(name: str, value: str | None):
    if name in FLAGS:
        return (value or "").strip().lower() in ("1", "true", "yes", "on")
    if name in NUMBERS:
        text = (value or "").strip()
        if not (text.isascii() and text.isdigit() and 0 < int(text) < 100000):
            raise SettingError(messages.setting_not_a_number(name, value or ""))
        return int(text)
    return value
