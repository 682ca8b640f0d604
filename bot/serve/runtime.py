"""The composition root of the worker: the answerer over the inbox, the reminder engine and the
console's chat notices, built from one App and the settings, in one place for ``nimo worker`` and
the tests (which start the same parts with a stand-in's URLs in ``settings``).

The scheduler gets what it must not import from here: the pushers (one per platform that is on)
and the texts of its messages (:mod:`bot.chat.reminder_texts`), so ``scheduler/`` stays free of ``bot``.
"""
from __future__ import annotations

from dataclasses import dataclass

from bot.chat import reminder_texts
from bot.config import Settings
from bot.serve.notices import NoticeSender
from bot.serve.worker import Answerer


@dataclass
class WorkerParts:
    answerer: Answerer
    reminders: object      # scheduler.service.ReminderService
    notices: NoticeSender

    @property
    def on(self) -> bool:
        """Some platform is configured: there is something to answer or to push to."""
        return bool(self.answerer.on or self.reminders.pushers)

    def start(self) -> None:
        self.answerer.start()
        self.reminders.start()  # one process runs it; the others keep trying for the lease in SQLite
        self.notices.start()

    def stops(self) -> list:
        return [self.answerer.stop, self.reminders.stop, self.notices.stop]


def build_worker(app, settings: Settings, *, threads: int | None = None, poll: float | None = 0.05) -> WorkerParts:
    from scheduler.service import ReminderService  # APScheduler: only where reminders are sent
    answerer = Answerer(app, settings, threads=threads or settings.workers, poll=poll)
    reminders = ReminderService(app.db, answerer.pushers(), reminder_texts, clock=app.clock,
                                summary_to=settings.summary_to)
    notices = NoticeSender(app.db, reminders.pushers, clock=app.clock)  # what the console asks to tell users
    return WorkerParts(answerer, reminders, notices)
