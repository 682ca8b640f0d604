"""The worker: the inbox loop over the events the web process stored, and its wiring to each
platform's adapter (bot/adapters/: LINE, Slack, LINE WORKS), which parse, render and deliver.

``nimo worker`` runs an :class:`Answerer` beside the web process (and the reminder engine); tests
and a one-process setup run :class:`Server`, the web app and an answerer together.  Answering
takes the case index, the tokenizer and the SDKs, which is why it lives apart from bot/serve/web.py.
"""
from __future__ import annotations

import logging
import threading
from datetime import timedelta

from bot.serve import status
from bot.serve.delivery import ReplyClaims
from bot.serve.inbox import Inbox, Workers
from bot.serve.logs import quiet_libraries
from bot.config import Settings
from bot.serve.web import WebApp

log = logging.getLogger("nimo.worker")
HOUSEKEEPING_SECONDS = 3600
SPOOL_SECONDS = 1.0  # how soon a LINE WORKS callback kept in a file during a lock is answered
HOUSEKEEPING_GRACE = timedelta(days=1)


class Answerer:
    """Worker threads over the inbox, and the platform clients they answer through.

    ``poll`` (seconds) makes the threads look for rows other processes stored; without it they
    take what ``submit`` hands them (the web app in the same process) and still poll slowly for
    rows left by a restart.
    """

    def __init__(self, app, settings: Settings, *, threads: int = 4, poll: float | None = None, sleep=None):
        quiet_libraries()
        self.app = app
        self.settings = settings
        self.inbox = Inbox(app.db, app.clock)
        self.line = None  # bot.adapters.line.LineAnswers
        self.bolt = None
        self.lineworks = None
        if settings.lineworks_on:
            from bot.adapters.lineworks import answers_from_settings
            self.lineworks = answers_from_settings(app, settings, sleep=sleep)
        if settings.line_on:
            from bot.adapters.line import answers_from_settings as line_answers
            self.line = line_answers(app, settings, sleep=sleep)
        if settings.slack_on:
            from bot.adapters.slack import build_bolt
            self.bolt = build_bolt(app, bot_token=settings.slack_bot_token, base_url=settings.slack_api_base_url)
        app.profiles = self._profiles()
        self.workers = Workers(self.inbox, self.process, threads=threads, poll=poll) if self.on else None
        self.stopping = threading.Event()
        self.sleep = sleep

    @property
    def on(self) -> bool:
        return self.line is not None or self.bolt is not None or self.lineworks is not None

    def _profiles(self):
        """Names for new users (``app.profiles``), from the clients this answerer already holds.
        Handlers reach the platforms only through such callables on the app: the web process and
        the CLI have no clients, and a handler stays free of SDKs.  LINE WORKS has none: its users
        API needs the ``user.read`` scope, and Nimo asks only for ``bot``."""
        from bot.people.names import Profiles
        fetchers = {}
        if self.line is not None:
            fetchers["line"] = self.line.messenger.display_name
        if self.bolt is not None:
            from bot.adapters.slack import display_name as slack_name
            fetchers["slack"] = lambda user_id: slack_name(self.bolt.client, user_id)
        return Profiles(fetchers)

    def process(self, platform: str, payload: dict, row_id: int) -> None:
        if platform == "line" and self.line is not None:
            self.line.process(payload)
        elif platform == "slack" and self.bolt is not None:
            from bot.adapters.slack import dispatch
            dispatch(self.bolt, payload)
        elif platform == "lineworks" and self.lineworks is not None:
            self.lineworks.process(payload)
        else:  # stored while that platform was on; kept as failed, not silently done
            raise RuntimeError(f"{platform} is off")

    def submit(self, row_id: int) -> None:
        if self.workers is not None:
            self.workers.submit(row_id)

    def pushers(self) -> dict:
        """How the scheduler reaches each platform (reminders have no reply token)."""
        out = {}
        if self.line is not None:
            out["line"] = self.line.pusher()
        if self.settings.slack_bot_token:
            from bot.adapters.slack import SlackPusher, web_client
            out["slack"] = SlackPusher(web_client(self.settings.slack_bot_token, self.settings.slack_api_base_url))
        if self.lineworks is not None:
            out["lineworks"] = self.lineworks.pusher()
        return out

    def start(self) -> None:
        if self.lineworks is not None:
            self.lineworks.start()
        if self.workers is not None:
            self.workers.start()
        threading.Thread(target=self._housekeeping, name="nimo-housekeeping", daemon=True).start()
        threading.Thread(target=self._warm_up, name="nimo-warm-up", daemon=True).start()
        if self.lineworks is not None:
            threading.Thread(target=self._drain_spool, name="nimo-spool", daemon=True).start()
        if self.bolt is not None:
            threading.Thread(target=self._watch_slack, name="nimo-slack-check", daemon=True).start()

    def _warm_up(self) -> None:
        """Load (or build) the case index now, so the first question does not wait for it."""
        try:
            self.app.index
        except Exception as e:
            log.error("case index: %s", type(e).__name__)

    def _housekeeping(self) -> None:
        """Hourly: forget answered events past the dedupe window (their payloads hold message
        text), and delete the photos of drafts nobody came back to.  Drafts are swept a day after
        they timed out, so someone who returns later that day is still told what happened."""
        from bot.reports.records import sweep_photos
        while not self.stopping.is_set():
            try:
                self.inbox.purge()
                ReplyClaims(self.app.db, self.app.clock).forget_old()
                sweep_photos(self.app.db, self.app.clock() - HOUSEKEEPING_GRACE, self.app.dialogs)
            except Exception as e:  # a locked database now and then: the next hour will do
                log.warning("housekeeping: %s", type(e).__name__)
            self._daily_backup()
            self.stopping.wait(HOUSEKEEPING_SECONDS)

    def _daily_backup(self) -> None:
        """With ``NIMO_BACKUP_DIR`` set: the day's backup, the first hour it is missing (so a
        worker restarted during the day makes none twice), and the oldest beyond the kept count gone."""
        directory = self.settings.backup_dir
        if not directory:
            return
        from storage.backup import daily
        from storage.connections import MEMORY, file_of
        try:
            # an in-memory database has no file: the backup refuses it, and that is logged
            made = daily(file_of(self.app.db) or MEMORY, directory, self.settings.backup_keep, self.app.clock())
            if made is not None:
                log.info("daily backup made")
        except Exception as e:  # a full disk or a wrong folder: said in the log, tried again next hour
            log.error("daily backup failed: %s", type(e).__name__)

    def _drain_spool(self) -> None:
        """LINE WORKS callbacks the web process kept in files while the database was locked
        (bot/serve/spool.py): into the inbox as soon as it takes writes, and answered."""
        from bot.serve.spool import drain, spool_dir
        from storage.connections import file_of
        path = file_of(self.app.db)
        if path is None:  # an in-memory database: the web process has no spool either
            return
        directory = spool_dir(path)
        while not self.stopping.wait(SPOOL_SECONDS):
            try:
                for row in drain(directory, self.inbox):
                    self.submit(row)
            except Exception as e:
                log.error("spool: %s", type(e).__name__)

    def _watch_slack(self) -> None:
        """Slack's API may be down when Nimo starts: LINE goes on, and this keeps asking Slack
        (``auth.test``) with a growing wait, recording the outcome for ``/readyz``."""
        wait = 1.0
        while not self.stopping.is_set():
            try:
                self.bolt.client.auth_test()
                status.record(self.app.db, "slack_api", True, None, self.app.clock())
                wait = 600.0
            except Exception as e:  # any failure: only its kind is kept
                log.warning("slack api check failed: %s", type(e).__name__)
                status.record(self.app.db, "slack_api", False, type(e).__name__, self.app.clock())
                wait = min(wait * 2, 300.0)
            self.stopping.wait(wait)

    def stop(self, timeout: float = 5.0) -> bool:
        """Stop the threads (at most ``timeout`` seconds, even while a platform does not answer);
        True when every thread ended.  What was not answered stays in the inbox."""
        self.stopping.set()
        return self.workers.stop(timeout) if self.workers is not None else True


class Server:
    """The web app and an answerer in one process (tests; a one-process setup)."""

    def __init__(self, app, settings: Settings, *, threads: int = 4, sleep=None):
        self.app = app
        self.answerer = Answerer(app, settings, threads=threads, sleep=sleep)
        self.web = WebApp(app.db, app.clock, settings, on_stored=self.answerer.submit)
        self.wsgi = self.web
        self.workers = self.answerer.workers

    def start_workers(self) -> None:
        self.answerer.start()

    def stop(self, timeout: float = 5.0) -> bool:
        return self.answerer.stop(timeout)
