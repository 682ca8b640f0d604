"""The scheduler always has a runner, and a wall clock that is set does not stall it.

The engine runs for real (APScheduler, SQLite, its loop thread) with an injected clock; its loop
compares that clock's wall view with the monotonic clock, so a test steps the clock and sees
what a step of the machine's clock does.  Timeouts are guards against a hang, not measurements.
"""
from __future__ import annotations

import logging
import time
from datetime import timedelta

from bot import messages
from bot.chat import reminder_texts
from storage.connections import open_db
from bot.serve.status import readiness
from scheduler import store
from scheduler.service import LEASE, ReminderService
from scheduler.steps import StepWatch

from .conftest import Clock, RunningClock
from .fakes import PushRecorder
from .test_remind import TUESDAY, wait_until

TURN = 0.1  # seconds between the loop's turns in these tests


class SteppableClock(RunningClock):
    """Moves at the real pace, and can be set forward or back like a machine's clock."""

    def __init__(self, start=TUESDAY):
        super().__init__(start)
        self.offset = timedelta(0)

    def __call__(self):
        return super().__call__() + self.offset


def _service(path, clock, pusher=None):
    return ReminderService(path, {"line": pusher or PushRecorder()}, reminder_texts, clock=clock,
                           wall=lambda: clock().timestamp(), every=TURN)


def _reminder(db, clock, due, title="準備"):
    return store.add_reminder(db, kind="reminder", platform="line", owner="U1", target="U1", is_group=False,
                              title=title, due=due, recurrence=None, asked=True, now=clock())


def _lease_row(db):
    return db.execute("SELECT holder, expires_at FROM leases WHERE name = 'scheduler'").fetchone()


# -- noticing a step ------------------------------------------------------------------------------
def test_a_step_of_the_wall_clock_is_noticed_either_way_and_drift_is_not():
    mono, wall = [100.0], [1_800_000_000.0]
    watch = StepWatch(monotonic=lambda: mono[0], wall=lambda: wall[0])
    mono[0] += 5
    wall[0] += 5.5  # half a second of drift between two turns: not a step
    assert watch.step() == 0.0
    mono[0] += 5
    wall[0] += 5 - 3600  # set back an hour
    assert watch.step() == -3600
    mono[0] += 5
    wall[0] += 5 + 3 * 3600  # set forward three hours
    assert watch.step() == 3 * 3600
    mono[0] += 5
    wall[0] += 5
    assert watch.step() == 0.0


# -- taking over the lease ------------------------------------------------------------------------
def test_a_lease_left_by_a_dead_process_is_taken_over_and_its_reminder_sent_once(tmp_path):
    """A process died holding the lease (its row is still there): the engine starts without it,
    keeps trying, takes it once the row runs out and sends what is due, once."""
    clock = SteppableClock()
    path = tmp_path / "n.db"
    db = open_db(path)
    db.execute("INSERT INTO leases (name, holder, expires_at) VALUES ('scheduler', 'dead-process', ?)",
               [store.utc(clock() + LEASE)])
    rid = _reminder(db, clock, clock() + LEASE + timedelta(seconds=1))
    pusher = PushRecorder()
    svc = ReminderService(path, {"line": pusher}, reminder_texts, clock=clock, every=TURN)
    try:
        assert not svc.start()  # the dead process's row has not run out yet
        turns = svc.turns
        assert wait_until(lambda: svc.turns >= turns + 3, timeout=30)
        assert not svc.holding and pusher.sent == []
        clock.offset = LEASE + timedelta(seconds=2)  # the time passes (the loop's wall clock is the real one)
        assert wait_until(lambda: pusher.sent, timeout=30)
        assert wait_until(lambda: store.get(db, rid).status == "done", timeout=30)
        assert svc.holding and _lease_row(db)[0] == svc.holder
    finally:
        svc.stop()
    assert len(pusher.sent) == 1 and "準備" in pusher.sent[0].text


def test_a_lease_of_a_process_gone_on_this_machine_is_taken_at_once_and_one_elsewhere_is_not(tmp_path):
    """A worker SIGKILLed and started again on the same machine: its successor need not wait for
    the dead one's row to run out.  A holder on another machine, or alive here, keeps its lease."""
    import os
    import socket
    import subprocess
    import sys
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # reaped: its pid names no process now
    clock = SteppableClock()
    path = tmp_path / "n.db"
    db = open_db(path)
    for holder, taken in ((f"x@other-host:{gone.pid}", False), (f"x@{socket.gethostname()}:{os.getppid()}", False),
                          (f"x@{socket.gethostname()}:{gone.pid}", True)):
        db.execute("INSERT OR REPLACE INTO leases (name, holder, expires_at) VALUES ('scheduler', ?, ?)",
                   [holder, store.utc(clock() + LEASE)])
        svc = _service(path, clock)
        try:
            assert svc.start() is taken, holder
            assert (_lease_row(db)[0] == svc.holder) is taken
        finally:
            svc.stop()


def test_a_holder_that_lost_the_lease_stops_firing_and_takes_it_again_when_free(tmp_path, caplog):
    caplog.set_level(logging.INFO, "nimo.scheduler")
    clock = RunningClock(TUESDAY)
    path = tmp_path / "n.db"
    db = open_db(path)
    pusher = PushRecorder()
    svc = _service(path, clock, pusher)
    try:
        assert svc.start()
        # another process took the lease (our renewal came too late, e.g. after the clock was set forward)
        db.execute("UPDATE leases SET holder = 'other', expires_at = ? WHERE name = 'scheduler'",
                   [store.utc(clock() + LEASE)])
        assert wait_until(lambda: not svc.holding, timeout=30)
        rid = _reminder(db, clock, clock())
        turns = svc.turns
        assert wait_until(lambda: svc.turns >= turns + 5, timeout=30)  # the loop goes on, without firing
        assert pusher.sent == [] and store.get(db, rid).status == "active"
        assert _lease_row(db)[0] == "other"
        db.execute("DELETE FROM leases WHERE name = 'scheduler'")  # the other process stopped
        assert wait_until(lambda: pusher.sent, timeout=30)
        assert wait_until(lambda: store.get(db, rid).status == "done", timeout=30)
    finally:
        svc.stop()
    assert len(pusher.sent) == 1
    assert "taken by another process" in caplog.text and "runs the scheduler now" in caplog.text


def test_a_failing_turn_is_logged_by_its_kind_and_the_loop_goes_on(tmp_path, caplog):
    """A turn that fails (here: the wall clock the loop reads breaks once) does not end the loop."""
    broken = [False]

    def wall():
        if broken[0]:
            broken[0] = False
            raise OSError("no clock")
        return time.time()

    clock = RunningClock(TUESDAY)
    path = tmp_path / "n.db"
    db = open_db(path)
    pusher = PushRecorder()
    svc = ReminderService(path, {"line": pusher}, reminder_texts, clock=clock, wall=wall, every=TURN)
    try:
        assert svc.start()
        broken[0] = True
        assert wait_until(lambda: "scheduler loop: OSError" in caplog.text, timeout=30)
        rid = _reminder(db, clock, clock())
        assert wait_until(lambda: store.get(db, rid).status == "done", timeout=30)
    finally:
        svc.stop()
    assert len(pusher.sent) == 1


# -- the clock is set -------------------------------------------------------------------------------
def test_clock_set_back_an_hour_a_reminder_made_afterwards_goes_on_time_once(tmp_path, caplog):
    caplog.set_level(logging.INFO, "nimo.scheduler")
    clock = SteppableClock()
    path = tmp_path / "n.db"
    db = open_db(path)
    pusher = PushRecorder(clock)
    svc = _service(path, clock, pusher)
    try:
        assert svc.start()
        early = _reminder(db, clock, clock() + timedelta(minutes=30), "30分後")
        clock.offset = -timedelta(hours=1)
        assert wait_until(lambda: "wall clock moved -3600 s" in caplog.text, timeout=30)
        turns = svc.turns
        assert wait_until(lambda: svc.turns >= turns + 2, timeout=30)  # the rounds begun before the step are over
        due = clock() + timedelta(seconds=2)
        rid = _reminder(db, clock, due, "設定し直した後")
        assert wait_until(lambda: store.get(db, rid).status == "done", timeout=30)
        assert _lease_row(db)[0] == svc.holder  # still held, renewed on the clock as it is now
        assert store.from_utc(_lease_row(db)[1]) <= clock() + LEASE
    finally:
        svc.stop()
    assert len(pusher.sent) == 1 and "設定し直した後" in pusher.sent[0].text
    assert pusher.sent[0].at >= due - timedelta(seconds=1)
    assert "【遅延】" not in pusher.sent[0].text and store.get(db, early).status == "active"


def test_clock_set_forward_three_hours_what_fell_due_goes_at_once_marked_late_once(tmp_path, caplog):
    caplog.set_level(logging.INFO, "nimo.scheduler")
    clock = SteppableClock()
    path = tmp_path / "n.db"
    db = open_db(path)
    pusher = PushRecorder(clock)
    svc = _service(path, clock, pusher)
    try:
        assert svc.start()
        skipped = [_reminder(db, clock, clock() + timedelta(hours=h), f"{h}時間後") for h in (1, 2)]
        ahead = _reminder(db, clock, clock() + timedelta(hours=4), "4時間後")
        clock.offset = timedelta(hours=3)
        assert wait_until(lambda: all(store.get(db, r).status == "done" for r in skipped), timeout=30)
        assert wait_until(lambda: "wall clock moved +10800 s" in caplog.text, timeout=30)
        turns = svc.turns
        assert wait_until(lambda: svc.turns >= turns + 5, timeout=30)
    finally:
        svc.stop()
    assert sorted(p.text.count("【遅延】") for p in pusher.sent) == [1, 1] and len(pusher.sent) == 2
    assert store.get(db, ahead).status == "active"


def test_a_lease_written_before_the_clock_was_set_back_does_not_block_for_an_hour(tmp_path):
    """A process died right after the clock was set back an hour: its row seems to run out an hour
    from now, which no live holder's row can; the next process takes it at once."""
    clock = RunningClock(TUESDAY)
    path = tmp_path / "n.db"
    db = open_db(path)
    db.execute("INSERT INTO leases (name, holder, expires_at) VALUES ('scheduler', 'dead-process', ?)",
               [store.utc(clock() + timedelta(hours=1) + LEASE)])
    svc = _service(path, clock)
    try:
        assert svc.start()
    finally:
        svc.stop()


# -- /readyz and nimo status ------------------------------------------------------------------------
def _beat(db, now):
    from bot.serve.inbox import ALIVE
    db.execute("INSERT OR REPLACE INTO leases (name, holder, expires_at) VALUES ('worker:w1', 'w1', ?)",
               [store.utc(now + ALIVE)])


def test_what_fell_due_before_the_clock_was_set_back_goes_at_once_not_when_the_clock_shows_it_again(tmp_path):
    """The holder died just after a reminder fell due, then the clock was set back 5 minutes: the
    next process sends it at once (once), instead of 5 minutes later; one made after the step
    still waits for its own time."""
    clock = SteppableClock()
    path = tmp_path / "n.db"
    db = open_db(path)
    overdue = _reminder(db, clock, clock() - timedelta(seconds=5), title="期限の過ぎた準備")
    db.execute("INSERT INTO leases (name, holder, expires_at) VALUES ('scheduler', 'dead-process', ?)",
               [store.utc(clock() + LEASE)])  # its last renewal: now, on the clock before the step
    db.execute("INSERT INTO leases (name, holder, expires_at) VALUES ('scheduler_seen', ?, ?)",
               [str(overdue), store.utc(clock())])  # what it had seen then
    clock.offset = -timedelta(minutes=5)
    later = _reminder(db, clock, clock() + timedelta(minutes=4), title="あとの準備")
    pusher = PushRecorder()
    svc = _service(path, clock, pusher)
    try:
        svc.start()
        assert wait_until(lambda: store.get(db, overdue).status == "done", timeout=30)
        turns = svc.turns
        assert wait_until(lambda: svc.turns >= turns + 3, timeout=30)
        assert store.get(db, later).status == "active"
    finally:
        svc.stop()
    assert [r.text for r in pusher.sent if "準備" in r.text] and len(pusher.sent) == 1
    assert "期限の過ぎた準備" in pusher.sent[0].text


def test_readiness_wants_a_live_scheduler_lease_and_says_why_not(tmp_path):
    clock = Clock(TUESDAY)
    db = open_db(tmp_path / "n.db")
    _beat(db, clock())
    r = readiness(db, clock)
    assert r["ready"] is False and r["scheduler_running"] is False
    assert r["problem_keys"] == ["no_scheduler"] and r["problems"] == [messages.STATUS_NO_SCHEDULER]
    db.execute("INSERT INTO leases (name, holder, expires_at) VALUES ('scheduler', 'abcdef0123', ?)",
               [store.utc(clock() + LEASE)])
    r = readiness(db, clock)
    assert r["ready"] is True and r["problems"] == [] and r["scheduler"]["holder"] == "abcdef01"
    clock.now = TUESDAY + LEASE + timedelta(seconds=1)  # the holder died: its row ran out
    _beat(db, clock())
    r = readiness(db, clock)
    assert r["ready"] is False and r["problem_keys"] == ["no_scheduler"] and r["scheduler"] is not None


def test_readiness_without_a_worker_names_both(tmp_path):
    db = open_db(tmp_path / "n.db")
    r = readiness(db, Clock(TUESDAY))
    assert r["ready"] is False and r["problem_keys"] == ["no_worker", "no_scheduler"]
    assert r["problems"] == [messages.STATUS_NO_WORKER, messages.STATUS_NO_SCHEDULER]


def test_nimo_status_exits_1_and_says_why_while_nobody_runs_the_scheduler(nimo):
    from datetime import datetime, timezone
    nimo("remind", "list")  # creates the database
    db = open_db(nimo.db_path)
    now = datetime.now(timezone.utc)  # the command reads the real clock; the rows are relative to it
    _beat(db, now)
    db.execute("INSERT INTO leases (name, holder, expires_at) VALUES ('scheduler', 'abcdef0123', ?)",
               [store.utc(now - timedelta(seconds=5))])
    p = nimo("status", check=False)
    assert p.returncode == 1
    assert "スケジューラー　　止まっている" in p.stdout and messages.STATUS_NO_SCHEDULER in p.stdout
    assert "worker　　　　　　動いている" in p.stdout and "Traceback" not in p.stderr
    db.execute("UPDATE leases SET expires_at = ? WHERE name = 'scheduler'", [store.utc(now + timedelta(minutes=5))])
    p = nimo("status", check=False)
    assert p.returncode == 0, p.stdout
    assert "スケジューラー　　動いている（abcdef01）" in p.stdout and messages.STATUS_NO_SCHEDULER not in p.stdout
