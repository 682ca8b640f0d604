"""The inbox and its workers, on real SQLite files, with real threads: each sender's events are
answered in order and once, a burst is answered in full, and stopping is bounded even when a
handler hangs (the row it held is taken up after a restart)."""
from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict
from datetime import timedelta

import pytest

from storage.connections import PerThreadDB
from bot.serve.inbox import ALIVE, Inbox, Workers

from . import waiting

GUARD = 60  # seconds: only so a broken build fails instead of hanging; never a measured duration


def wait_until(predicate, timeout: float = GUARD) -> bool:
    """True once ``predicate()`` holds; raises (naming it) after ``timeout``."""
    return waiting.wait_until(predicate, timeout, step=0.005)


@pytest.fixture
def path(tmp_path):
    return tmp_path / "inbox.db"


@pytest.fixture
def inbox(path, clock):
    return Inbox(PerThreadDB(path), clock)


class Recorder:
    """A handler that records what it answered, per sender, and fails the test's checks if two
    events of one sender are ever in its hands at once (that would break their order)."""

    def __init__(self, delay=None):
        self.lock = threading.Lock()
        self.done: dict[str | None, list[int]] = defaultdict(list)
        self.rows: list[tuple[int, str]] = []  # (row id, which Workers)
        self.busy: set[str] = set()
        self.overlaps = 0
        self.delay = delay

    def __call__(self, name: str = ""):
        def handle(platform, payload, row_id):
            sender = payload["sender"]
            with self.lock:
                if sender is not None and sender in self.busy:
                    self.overlaps += 1
                self.busy.add(sender)
            if self.delay:
                self.delay(payload)
            with self.lock:
                self.busy.discard(sender)
                self.done[sender].append(payload["n"])
                self.rows.append((row_id, name))
        return handle

    def count(self) -> int:
        with self.lock:
            return len(self.rows)


def add_burst(inbox: Inbox, senders: list[str | None], per_sender: int, first: int = 0, submit=None) -> dict:
    """Events interleaved across senders (as a burst arrives); each sender's numbers ascend.
    ``submit`` gets each new row's id, as the webhook hands it to workers in its own process."""
    sent: dict[str | None, list[int]] = defaultdict(list)
    for n in range(first, first + per_sender):
        for i, s in enumerate(senders):
            row_id = inbox.add("line", f"ev-{i}-{s}-{n}", {"sender": s, "n": n}, sender=s)
            assert row_id is not None
            sent[s].append(n)
            if submit:
                submit(row_id)
    return sent


def statuses(inbox: Inbox) -> Counter:
    return Counter(r[0] for r in inbox.db.execute("SELECT status FROM inbox").fetchall())


# -- the inbox itself -------------------------------------------------------------------------------
def test_a_redelivered_event_is_stored_once(inbox):
    assert inbox.add("line", "ev-1", {"n": 1}, sender="Ua") is not None
    assert inbox.add("line", "ev-1", {"n": 1}, sender="Ua") is None
    assert statuses(inbox) == {"new": 1}


def test_unfinished_lists_only_each_senders_head_row(inbox, clock):
    ids = {}
    for key, sender in [("a1", "Ua"), ("b1", "Ub"), ("a2", "Ua"), ("x1", None), ("b2", "Ub"), ("a3", "Ua"),
                        ("x2", None)]:
        ids[key] = inbox.add("line", key, {"k": key}, sender=sender)

    def rows(*keys):
        return sorted(ids[k] for k in keys)

    assert inbox.unfinished() == rows("a1", "b1", "x1", "x2")

    inbox.heartbeat("live")
    assert inbox.claim(ids["a2"], "live") is None  # not Ua's oldest: it must wait
    assert inbox.take(ids["a1"], "live") == ("line", {"k": "a1"}, "Ua")
    # Ua's head is in a live worker's hands: nothing of Ua's may be taken now
    assert inbox.unfinished() == rows("b1", "x1", "x2")
    assert inbox.claim(ids["a2"], "live") is None

    inbox.finish(ids["a1"])
    assert inbox.next_of("Ua") == ids["a2"]
    assert inbox.unfinished() == rows("a2", "b1", "x1", "x2")

    # a row held by a worker whose heartbeat stopped is offered again, still as its sender's head
    assert inbox.claim(ids["b1"], "gone") is not None
    assert inbox.unfinished() == rows("a2", "b1", "x1", "x2")
    assert inbox.claim(ids["b1"], "live") is not None

    # and a live worker's lease lapses ALIVE after its last heartbeat
    inbox.take(ids["a2"], "live")
    assert ids["a2"] not in inbox.unfinished()
    clock.now += ALIVE + timedelta(seconds=1)
    assert inbox.unfinished() == rows("a2", "b1", "x1", "x2")


def test_the_head_query_reads_the_unfinished_rows_by_index(inbox):
    plan = " ".join(r[3] for r in inbox.db.execute(
        "EXPLAIN QUERY PLAN SELECT id FROM inbox WHERE sender = ? AND status IN ('new', 'working') "
        "ORDER BY id LIMIT 1", ["Ua"]).fetchall())
    assert "inbox_open" in plan
    inbox.unfinished()  # INDEXED BY inbox_open: an error if the index were missing


# -- workers ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("feed", ["poll", "submit"])
def test_a_burst_from_several_senders_is_answered_in_full_and_in_order(inbox, feed):
    """``poll``: how ``nimo worker`` finds rows another process stored; ``submit``: the webhook in
    the same process hands over every row as it is stored, heads or not."""
    rec = Recorder(delay=lambda p: time.sleep(0.001 * (p["n"] % 3)))  # uneven work mixes the threads
    senders = ["Ua", "Ub", "Uc", "Ud", "Ue", "Uf", None]
    sent = add_burst(inbox, senders, 20)  # stored before the start: a restart's backlog
    workers = Workers(inbox, rec(), threads=4, poll=0.01 if feed == "poll" else None)
    workers.start()
    try:
        more = add_burst(inbox, senders, 30, first=20, submit=workers.submit if feed == "submit" else None)
        for s in senders:
            sent[s] += more[s]
        total = sum(len(v) for v in sent.values())
        assert wait_until(lambda: rec.count() == total)
        assert workers.wait_idle(GUARD)
    finally:
        workers.stop()
    assert rec.overlaps == 0
    for s in senders:
        if s is None:  # events without a sender have no order to keep, but each is answered once
            assert sorted(rec.done[None]) == sent[None]
        else:
            assert rec.done[s] == sent[s], s
    assert statuses(inbox) == {"done": total}


def test_a_slow_answer_holds_back_only_its_own_senders_next_events(inbox):
    first_a = threading.Event()
    release = threading.Event()

    def delay(p):
        if p["sender"] == "Ua" and p["n"] == 0:
            first_a.set()
            release.wait(GUARD)

    rec = Recorder(delay=delay)
    workers = Workers(inbox, rec(), threads=3, poll=0.01)
    workers.start()
    try:
        add_burst(inbox, ["Ua", "Ub", "Uc"], 10)
        assert first_a.wait(GUARD)
        assert wait_until(lambda: len(rec.done["Ub"]) == 10 and len(rec.done["Uc"]) == 10)
        assert rec.done["Ua"] == []  # Ua's later events wait for the first, whichever thread is free
        release.set()
        assert wait_until(lambda: len(rec.done["Ua"]) == 10)
    finally:
        release.set()
        workers.stop()
    assert rec.done["Ua"] == list(range(10)) and rec.overlaps == 0


def test_two_workers_on_one_database_never_handle_the_same_row(path, clock):
    """As two ``nimo worker`` processes would: each its own connections, its own lease."""
    rec = Recorder(delay=lambda p: time.sleep(0.0005 * (p["n"] % 2)))
    one, two = Inbox(PerThreadDB(path), clock), Inbox(PerThreadDB(path), clock)
    senders = ["Ua", "Ub", "Uc", "Ud", "Ue", None, None]
    sent = add_burst(one, senders, 40)
    pool = [Workers(one, rec("one"), threads=3, poll=0.005), Workers(two, rec("two"), threads=3, poll=0.005)]
    try:
        for w in pool:
            w.start()
        total = sum(len(v) for v in sent.values())
        assert wait_until(lambda: rec.count() >= total)
        for w in pool:
            assert w.wait_idle(GUARD)
    finally:
        for w in pool:
            w.stop()
    handled = Counter(row_id for row_id, _ in rec.rows)
    assert len(handled) == total and max(handled.values()) == 1
    assert rec.overlaps == 0
    for s in ["Ua", "Ub", "Uc", "Ud", "Ue"]:
        assert rec.done[s] == sent[s]


def test_stop_is_bounded_while_a_handler_hangs_and_a_restart_answers_its_row(path, clock):
    entered = threading.Event()
    release = threading.Event()

    def hang(platform, payload, row_id):  # a platform API that does not answer
        entered.set()
        release.wait(GUARD)

    inbox = Inbox(PerThreadDB(path), clock)
    row = inbox.add("line", "ev-hang", {"sender": "Ua", "n": 0}, sender="Ua")
    later = inbox.add("line", "ev-next", {"sender": "Ua", "n": 1}, sender="Ua")
    workers = Workers(inbox, hang, threads=2, poll=0.01)
    rec = Recorder()
    restarted = None
    try:
        workers.start()
        assert entered.wait(GUARD)
        result = []
        stopper = threading.Thread(target=lambda: result.append(workers.stop(timeout=0.5)), daemon=True)
        stopper.start()
        stopper.join(GUARD)
        assert not stopper.is_alive() and result == [False]  # returned, and said a thread is still busy
        assert not release.is_set() and any(t.is_alive() for t in workers.threads)  # still blocked
        assert statuses(inbox) == {"working": 1, "new": 1}

        # The next start (a new process: its own connections and lease) answers both, in order,
        # once the stopped worker's lease has lapsed (it no longer beats).
        restarted = Workers(Inbox(PerThreadDB(path), clock), rec(), threads=2, poll=0.01)
        restarted.start()
        assert restarted.wait_idle(GUARD) and rec.count() == 0  # the lease is still alive: hands off
        clock.now += ALIVE + timedelta(seconds=1)
        assert wait_until(lambda: rec.count() == 2)
        assert [r for r, _ in rec.rows] == [row, later]
    finally:
        release.set()
        workers.stop(timeout=GUARD)
        if restarted:
            restarted.stop()
    assert statuses(inbox) == {"done": 2}


def test_a_clean_stop_ends_every_thread_and_hands_back_the_lease(inbox):
    workers = Workers(inbox, Recorder()(), threads=3, poll=0.01)
    workers.start()
    name = f"worker:{workers.holder}"
    assert inbox.db.execute("SELECT COUNT(*) FROM leases WHERE name = ?", [name]).fetchone()[0] == 1
    assert workers.stop() is True
    assert not any(t.is_alive() for t in workers.threads)
    assert inbox.db.execute("SELECT COUNT(*) FROM leases WHERE name = ?", [name]).fetchone()[0] == 0


def test_a_failing_handler_marks_its_row_failed_and_the_sender_goes_on(inbox):
    answered = []

    def handle(platform, payload, row_id):
        if payload["n"] == 0:
            raise ValueError("boom")
        answered.append(payload["n"])

    add_burst(inbox, ["Ua"], 3)
    workers = Workers(inbox, handle, threads=2, poll=0.01)
    workers.start()
    try:
        assert wait_until(lambda: len(answered) == 2)
    finally:
        workers.stop()
    assert answered == [1, 2] and statuses(inbox) == {"failed": 1, "done": 2}


# -- waiting for the workers to be idle (what tests rely on before asserting that nothing happened) --
def test_wait_idle_waits_for_a_row_another_process_stored(inbox):
    """The queue is empty until the poller hands over a row stored elsewhere: idle means that row
    was answered too, not just that nothing was queued at the moment of asking."""
    rec = Recorder()
    workers = Workers(inbox, rec(), threads=2, poll=0.5)  # a slow poll: the row waits in the inbox
    workers.start()
    try:
        inbox.add("line", "ev-elsewhere", {"sender": "Ua", "n": 0}, sender="Ua")  # not submitted
        assert workers.wait_idle(GUARD) is True
        assert rec.count() == 1 and statuses(inbox) == {"done": 1}
    finally:
        workers.stop()


def test_wait_idle_raises_while_a_row_is_being_handled(inbox):
    entered, release = threading.Event(), threading.Event()

    def hold(platform, payload, row_id):
        entered.set()
        release.wait(GUARD)

    workers = Workers(inbox, hold, threads=1)
    workers.start()
    try:
        workers.submit(inbox.add("line", "ev-held", {"sender": "Ua", "n": 0}, sender="Ua"))
        assert entered.wait(GUARD)
        with pytest.raises(TimeoutError, match=r"1 row\(s\) queued or being handled"):
            workers.wait_idle(0.1)
        release.set()
        assert workers.wait_idle(GUARD) is True and statuses(inbox) == {"done": 1}
    finally:
        release.set()
        workers.stop()
