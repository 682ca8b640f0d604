"""The worker: the inbox loop over the events the web process stored, and the parts of each
platform (bot/adapters/, declared by the connectors listed in bot/adapters/__init__.py) that parse,
render and deliver.  No platform is named here: a platform's part is built from its connector, and
its module (and SDK) is imported only when the platform is on.

A part (``Connector.worker(app, settings, sleep=...)``) has ``name``; ``answers`` (False for a
platform the scheduler only pushes to); ``process(payload)``, which answers one stored event and
raises when it could not be delivered; ``pusher()`` (or None); ``display_name`` (a callable giving
a new user's name, or None); and ``start(stopping)``, which starts what runs beside the answering
(its threads end when ``stopping`` is set).

``nimo worker`` runs an :class:`Answerer` beside the web process (and the reminder engine); tests
and a one-process setup run :class:`Server`, the web app and an answerer together.  Answering
takes the case index, the tokenizer and the SDKs, which is why it lives apart from bot/serve/web.py.
"""
from __future__ import annotations

import logging
import threading
from datetime import timedelta
from typing import Sequence

from bot.serve.delivery import ReplyClaims
from bot.serve.inbox import Inbox, Workers
from bot.serve.logs import quiet_libraries
from bot.serve.webhooks import Connector
from bot.config import Settings
from bot.serve.web import WebApp

log = logging.getLogger("nimo.worker")
HOUSEKEEPING_SECONDS = 3600
SPOOL_SECONDS = 1.0  # how soon an event kept in a file during a lock (Connector.spools) is answered
HOUSEKEEPING_GRACE = timedelta(days=1)


def _default_connectors() -> Sequence[Connector]:
    from bot.adapters import CONNECTORS
    return CONNECTORS


class Answerer:
    """Worker threads over the inbox, and the platform parts they answer through.

    ``poll`` (seconds) makes the threads look for rows other processes stored; without it they
    take what ``submit`` hands them (the web app in the same process) and still poll slowly for
    rows left by a restart.  ``connectors`` defaults to the platforms of bot/adapters/.
    """

    def __init__(self, app, settings: Settings, *, threads: int = 4, poll: float | None = None, sleep=None,
                 connectors: Sequence[Connector] | None = None):
        quiet_libraries()
        self.app = app
        self.settings = settings
        self.inbox = Inbox(app.db, app.clock)
        self.connectors = tuple(_default_connectors() if connectors is None else connectors)
        self.parts = {}  # platform → its part, for the platforms this worker answers or pushes to
        for c in self.connectors:
            if c.wanted_by_worker(settings):
                part = c.worker_factory()(app, settings, sleep=sleep)
                if part is not None:  # it could not run (said in the log by the part's module)
                    self.parts[c.name] = part
        app.profiles = self._profiles()
        self.workers = Workers(self.inbox, self.process, threads=threads, poll=poll) if self.on else None
        self.stopping = threading.Event()
        self.sleep = sleep

    @property
    def on(self) -> bool:
        return any(part.answers for part in self.parts.values())

    def _profiles(self):
        """Names for new users (``app.profiles``), from the clients this answerer already holds.
        Handlers reach the platforms only through such callables on the app: the web process and
        the CLI have no clients, and a handler stays free of SDKs."""
        from bot.people.names import Profiles
        return Profiles({name: part.display_name for name, part in self.parts.items()
                         if part.display_name is not None})

    def process(self, platform: str, payload: dict, row_id: int) -> None:
        part = self.parts.get(platform)
        if part is None or not part.answers:  # stored while that platform was on; kept as failed, not silently done
            raise RuntimeError(f"{platform} is off")
        part.process(payload)

    def submit(self, row_id: int) -> None:
        if self.workers is not None:
            self.workers.submit(row_id)

    def pushers(self) -> dict:
        """How the scheduler reaches each platform (reminders have no reply token)."""
        return {name: pusher for name, part in self.parts.items() if (pusher := part.pusher()) is not None}

    def start(self) -> None:
        for part in self.parts.values():
            part.start(self.stopping)
        if self.workers is not None:
            self.workers.start()
        threading.Thread(target=self._housekeeping, name="nimo-housekeeping", daemon=True).start()
        threading.Thread(target=self._warm_up, name="nimo-warm-up", daemon=True).start()
        if any(c.spools and c.name in self.parts for c in self.connectors):
            threading.Thread(target=self._drain_spool, name="nimo-spool", daemon=True).start()

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
        """Events the web process kept in files while the database was locked (bot/serve/spool.py;
        a platform that never resends, such as LINE WORKS): into the inbox as soon as it takes
        writes, and answered."""
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

    def stop(self, timeout: float = 5.0) -> bool:
        """Stop the threads (at most ``timeout`` seconds, even while a platform does not answer);
        True when every thread ended.  What was not answered stays in the inbox."""
        self.stopping.set()
        return self.workers.stop(timeout) if self.workers is not None else True


class Server:
    """The web app and an answerer in one process (tests; a one-process setup)."""

    def __init__(self, app, settings: Settings, *, threads: int = 4, sleep=None,
                 connectors: Sequence[Connector] | None = None):
        self.app = app
        self.answerer = Answerer(app, settings, threads=threads, sleep=sleep, connectors=connectors)
        self.web = WebApp(app.db, app.clock, settings, on_stored=self.answerer.submit,
                          connectors=self.answerer.connectors)
        self.wsgi = self.web
        self.workers = self.answerer.workers

    def start_workers(self) -> None:
        self.answerer.start()

    def stop(self, timeout: float = 5.0) -> bool:
        return self.answerer.stop(timeout)
