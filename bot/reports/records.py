"""Field reports: reading a one-line report, storing it with an audit trail, and what follows from it.

A report is committed before the user is told its number, under the key of the chat event that
confirmed it, so a redelivered or re-processed 「確定」 finds the report it already saved instead
of saving a second one.  Nothing is ever deleted except by the retention rule (``purge``), and
every change keeps its before and after in ``report_audit`` until then.  A withdrawn report keeps
its photos, as it keeps its text, until it is purged: withdrawing is recorded, not erased.
"""
from __future__ import annotations

import json
import logging
import os
import re
import unicodedata
from pathlib import Path
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime, time, timedelta, timezone

from scheduler import store as rstore
from scheduler.timeparse import parse_when
from scheduler.timeparse import TimeError, parse_date
from scheduler.transactions import immediate
from scheduler.workdays import TZ
from storage.connections import file_of

from bot import messages
from bot.reports.kinds import TYPES  # noqa: F401  (the one list; reports.TYPES is imported widely)

TYPE_WORDS = {  # what staff type → the stored type
    "訪問": "訪問", "家庭訪問": "訪問", "電話": "電話", "tel": "電話", "同行受診": "同行受診", "受診同行": "同行受診",
    "同行": "同行受診", "会議": "会議・協議の場", "協議の場": "会議・協議の場", "会議・協議の場": "会議・協議の場",
    "ケース会議": "会議・協議の場", "ピア活動": "ピア活動", "ピア": "ピア活動", "その他": "その他",
}
# The shape of a case code (K-012, k012) in patterns on normalised text, and a whole word of it as typed.
CODE = r"[A-Za-z]{1,4}[-ー‐‑−–—―]?[0-9]{1,6}"  # any dash a phone types between (see CODE_DASHES)
CASE_CODE = re.compile(r"^[A-Za-z]{1,4}-?\d{1,6}$")
# 「次回」 and what joins it to the next step (「次回は来週火曜」「次回：12/10」); the rest of the one-line
# text is the next step.  (The rest is not part of the pattern: a search for 「次回 … end of line」 from
# every 「次回」 of a long line would read the line once for each.)
NEXT = re.compile(r"次回\s*+(?:[:：は]\s*+)?")
# Words read after NFKC and lower-casing (「ＴＥＬ」 is 「tel」): kana as typed on a phone, other names
TYPE_WORDS.update({"ほうもん": "訪問", "でんわ": "電話", "架電": "電話", "電話連絡": "電話", "どうこう": "同行受診",
                   "かいぎ": "会議・協議の場", "ぴあ": "ピア活動", "活動報告": "ピア活動", "そのた": "その他"})
# A peer supporter (role 'peer') writes activity reports only: 「活動報告」 is stored as the ピア活動 type,
# which the summaries, charts and exports already count (a type of its own would split one kind).
PEER_TYPES = ("ピア活動",)
EDIT_HOURS = 24
# A visit report that says the person was not met (「不在。置き手紙を残した。」) does not complete the
# planned visit: it is still owed within its window, and the attempt is recorded beside it.
NOT_MET = re.compile(r"不在|留守|会え(?:ず|な[いかくけ])|面会(?:でき)?ず|応答(?:が)?な[しい]|置き?手紙|置いて帰")


@dataclass(frozen=True)
class Draft:
    """A report being written: what the user sees before 「確定」."""

    type: str = "訪問"
    date: str = ""            # YYYY-MM-DD
    case_code: str | None = None
    area: str = ""
    summary: str = ""
    next_action: str | None = None
    next_date: str | None = None
    next_time: str | None = None   # HH:MM (Japan) when 「次回」 gave a time
    report_id: int | None = None   # set when the draft edits a saved report
    photos: tuple[str, ...] = ()   # files already stripped and stored beside the database

    def fields(self) -> dict:
        return {k: v for k, v in asdict(self).items() if k not in ("report_id", "photos")}


def number(report_id: int) -> str:
    return f"R-{report_id:06d}"


def parse_number(text: str) -> int | None:
    m = re.search(r"R-?(\d{1,9})", text, re.I)
    return int(m.group(1)) if m else None


class NextUnread(TimeError):
    """The 「次回」 of a one-line report could not be read: everything else was, and is kept in
    ``draft`` so that only the next step is asked for again."""

    def __init__(self, reason: str, draft: "Draft", unread: str):
        super().__init__(reason)
        self.draft = draft
        self.unread = unread


def types_for(role: str | None) -> tuple[str, ...]:
    """The report types a user of ``role`` may write (None: the terminal's local staff member)."""
    return PEER_TYPES if role == "peer" else TYPES


def type_of(word: str) -> str | None:
    """The stored type a typed word names (「でんわ」「ＴＥＬ」「電話」 → 電話), or None."""
    return TYPE_WORDS.get(unicodedata.normalize("NFKC", word).strip().lower())


# The dashes a phone or an IME puts between a code's letters and digits (長音 ー, full-width －, hyphen ‐,
# minus −, en and em dash): read as the one 「-」, only there, so 「ー」 elsewhere in a word stays itself.
CODE_DASHES = re.compile(r"(?<=[A-Za-z])[ー－‐‑−–—―](?=[0-9])")


def case_code(word: str) -> str | None:
    """A case code as typed (「k012」「Ｋ－０１２」「K-012」) written one way, 「K-012」, or None when
    the word is not one: the same case is then the same code in reports, plans and lists."""
    w = CODE_DASHES.sub("-", unicodedata.normalize("NFKC", word).strip())
    m = re.fullmatch(r"([A-Za-z]{1,4})-?([0-9]{1,6})", w)  # CODE, with its two parts
    return f"{m.group(1).upper()}-{m.group(2)}" if m else None


def case_key(code: str) -> str:
    """What two spellings of one case code share: 「K-012」 and 「k012」 name the same case."""
    return code.upper().replace("-", "")


def parse_next(text: str, now: datetime) -> tuple[str | None, str | None, str | None]:
    """「12/10」「12/10 再訪」「来週火曜 受診同行」「12/10 14時 再訪」 → (action, date, time or None);
    「なし」 → (None, None, None).  A time right after the date is the time of the next step, not
    its action."""
    text = text.strip()
    if not text or text in ("なし", "無し", "ない"):
        return None, None, None
    d, rest = parse_date(text, now)
    rest, at = rest.strip(), None
    if rest:
        try:
            when, title = parse_when(rest, now)
        except TimeError:
            when = None
        if when is not None and when.recurrence is None and rest.startswith(when.matched):
            at, rest = when.at.astimezone(TZ).strftime("%H:%M"), title
    return (rest.strip(" 　、。") or "次回訪問"), d.isoformat(), at


def parse_one_line(text: str, now: datetime, area: str, default_type: str = "訪問") -> Draft:
    """「訪問 K-012 服薬確認できた。表情明るい。次回12/10」 (after the word 報告) into a draft.

    Order is free: a type word, a case code and a leading date (「昨日」「11/20」) are taken from
    the front; 「次回 …」 at the end is the next action; the rest is the summary.
    Raises :class:`NextUnread` (holding the rest of the draft) when the 次回 date cannot be read.
    """
    words = text.split()
    rtype, code, day = default_type, None, now.astimezone(TZ).date()
    taken = 0  # words read from the front (an index: pop(0) costs the length of the list each time)
    dates: dict[str, date | None] = {}  # a word repeated thousands of times is read once
    while taken < len(words):
        w = words[taken]
        if type_of(w):
            rtype = type_of(w)
        elif case_code(w):
            code = case_code(w)
        else:
            if w not in dates:
                try:
                    d, rest = parse_date(w, now)
                    dates[w] = None if rest.strip() else d
                except TimeError:
                    dates[w] = None
            if dates[w] is None:
                break
            day = dates[w]
        taken += 1
    body = " ".join(words[taken:])
    m = NEXT.search(body)  # the body is one line: the first 「次回」 with anything after it is the one
    rest = (body[m.end():] or body[m.start() + 2:].lstrip()) if m else ""  # 「次回：」 alone: the next step is 「：」
    draft = Draft(type=rtype, date=day.isoformat(), case_code=code, area=area, summary=body.strip())
    if not rest:
        return draft
    draft = replace(draft, summary=body[:m.start()].strip())
    try:
        action, next_date, next_time = parse_next(rest, now)
    except TimeError as e:
        raise NextUnread(str(e), draft, rest.strip()) from None
    return replace(draft, next_action=action, next_date=next_date, next_time=next_time)


def _rows(db, sql, params=()) -> list[dict]:
    return list(db.query(sql, params))  # sqlite-utils gives each row as a dict


def get(db, report_id: int) -> dict | None:
    rows = _rows(db, "SELECT * FROM reports WHERE id = ?", [report_id])
    return rows[0] if rows else None


def by_source(db, source_key: str) -> dict | None:
    rows = _rows(db, "SELECT * FROM reports WHERE source_key = ?", [source_key])
    return rows[0] if rows else None


def save(db, draft: Draft, *, platform: str, author: str, source_key: str, now: datetime) -> tuple[int, bool]:
    """Store a new report (and its audit row) in one transaction; (id, created).  A second call
    with the same ``source_key`` returns the first report's id and stores nothing."""
    found = by_source(db, source_key)
    if found:
        return found["id"], False
    t = _utc(now)
    with immediate(db.conn) as conn:
        found = conn.execute("SELECT id FROM reports WHERE source_key = ?", [source_key]).fetchone()
        if found:  # saved by another process meanwhile: nothing written, so leaving commits nothing
            return found[0], False
        f = draft.fields()
        rid = conn.execute(
            "INSERT INTO reports (platform, author, area, type, date, case_code, summary, next_action, next_date, "
            "next_time, source_key, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [platform, author, f["area"], f["type"], f["date"], f["case_code"], f["summary"], f["next_action"],
             f["next_date"], f["next_time"], source_key, t, t]).lastrowid
        conn.execute("INSERT INTO report_audit (report_id, action, by, before, after, at) VALUES (?, 'create', ?, NULL, ?, ?)",
                     [rid, f"{platform}:{author}", json.dumps(f, ensure_ascii=False), t])
        _add_photos(conn, rid, draft.photos, now)
    return rid, True


def _add_photos(conn, report_id: int, paths, now: datetime) -> None:
    for path in paths:
        conn.execute("INSERT INTO report_photos (report_id, path, bytes, created_at) VALUES (?, ?, ?, ?)",
                     [report_id, path, Path(path).stat().st_size, _utc(now)])


def editable(row: dict, platform: str, author: str, now: datetime) -> bool:
    return (row["platform"] == platform and row["author"] == author and row["status"] == "active"
            and now - datetime.fromisoformat(row["created_at"]) <= timedelta(hours=EDIT_HOURS))


def update(db, report_id: int, draft: Draft, *, by: str, now: datetime) -> None:
    before = get(db, report_id)
    f = draft.fields()
    with immediate(db.conn) as conn:
        conn.execute("UPDATE reports SET type = ?, date = ?, case_code = ?, area = ?, summary = ?, next_action = ?, "
                     "next_date = ?, next_time = ?, updated_at = ? WHERE id = ?",
                     [f["type"], f["date"], f["case_code"], f["area"], f["summary"], f["next_action"],
                      f["next_date"], f["next_time"], _utc(now), report_id])
        conn.execute("INSERT INTO report_audit (report_id, action, by, before, after, at) VALUES (?, 'edit', ?, ?, ?, ?)",
                     [report_id, by, json.dumps(_fields(before), ensure_ascii=False),
                      json.dumps(f, ensure_ascii=False), _utc(now)])
        _add_photos(conn, report_id, draft.photos, now)  # photos sent while editing join the report


def withdraw(db, report_id: int, *, by: str, now: datetime) -> list[int]:
    """The report withdrawn, and the reminder its 「次回」 set cancelled with it (a withdrawn report
    has no next step); the ids of the reminders cancelled."""
    with immediate(db.conn) as conn:
        conn.execute("UPDATE reports SET status = 'withdrawn', updated_at = ? WHERE id = ?", [_utc(now), report_id])
        conn.execute("INSERT INTO report_audit (report_id, action, by, before, after, at) "
                     "VALUES (?, 'withdraw', ?, NULL, NULL, ?)", [report_id, by, _utc(now)])
        return rstore.cancel_report_reminders(db, report_id, now)


def unchanged(row: dict, draft: Draft) -> bool:
    """A correction confirmed as it was: the same fields and no photo added."""
    return not draft.photos and _fields(row) == draft.fields()


def next_changed(row: dict, draft: Draft) -> bool:
    return any(row[k] != getattr(draft, k) for k in ("next_action", "next_date", "next_time"))


def draft_of(row: dict) -> Draft:
    return Draft(**_fields(row), report_id=row["id"])


def _fields(row: dict) -> dict:
    return {k: row[k] for k in ("type", "date", "case_code", "area", "summary", "next_action", "next_date",
                                "next_time")}


def follow_up(db, report_id: int, *, platform: str, author: str, target: str, now: datetime) -> list[str]:
    """What a saved report sets off: a visit inside its window is resolved; 「次回」 becomes a reminder.
    Returns the sentences to add to the confirmation."""
    r = get(db, report_id)
    said = []
    if r["type"] == "訪問" and r["case_code"]:
        v = rstore.visit_in_window(db, r["case_code"], platform, r["date"])
        if v and NOT_MET.search(r["summary"]):
            rstore.record_action(db, reminder_id=None, visit_id=v["id"], platform=platform, user=author,
                                 action="absent", detail=number(report_id), now=now)
            said.append(messages.visit_not_met(v["label"]))
        elif v:
            rstore.finish_visit(db, v["id"], now)
            said.append(f"訪問計画の「{v['label']}」を完了にしました。")
    return said + next_reminder(db, r, platform=platform, author=author, target=target, now=now)


def next_reminder(db, r: dict, *, platform: str, author: str, target: str, now: datetime) -> list[str]:
    """The reminder of a report's 「次回」 (when its time is still ahead), tied to the report so that
    withdrawing or correcting the report reaches it; the sentence that says so, or nothing."""
    if not r["next_date"]:
        return []
    d = date.fromisoformat(r["next_date"])
    at_time = time.fromisoformat(r["next_time"]) if r["next_time"] else rstore.digest_time(db, platform, author)
    at = datetime.combine(d, at_time, tzinfo=TZ)
    if at <= now:
        return []
    title = " ".join(x for x in (r["case_code"], r["next_action"] or "次回") if x)
    rid = rstore.add_reminder(db, kind="reminder", platform=platform, owner=author, target=target,
                              is_group=False, title=title, due=at, recurrence=None, asked=False, now=now,
                              report_id=r["id"])
    when = f"{d.month}月{d.day}日 {r['next_time']}" if r["next_time"] else f"{d.month}月{d.day}日"
    return [f"次回（{when}）の{'その時刻' if r['next_time'] else '朝'}にお知らせします（番号 {rid}）。"]


def renew_next(db, report_id: int, *, platform: str, author: str, target: str,
               now: datetime) -> tuple[list[int], list[str]]:
    """After a correction of 「次回」: the reminder it had set cancelled, one for the new 「次回」 set;
    (the ids cancelled, the sentence about the new one)."""
    cancelled = rstore.cancel_report_reminders(db, report_id, now)
    return cancelled, next_reminder(db, get(db, report_id), platform=platform, author=author, target=target, now=now)


def recent(db, *, platform: str | None = None, author: str | None = None, area: str | None = None,
           limit: int = 10) -> list[dict]:
    where, params = ["status = 'active'"], []
    if platform:
        where.append("platform = ?")
        params.append(platform)
    if author:
        where.append("author = ?")
        params.append(author)
    if area:
        where.append("area = ?")
        params.append(area)
    return _rows(db, f"SELECT * FROM reports WHERE {' AND '.join(where)} ORDER BY date DESC, id DESC LIMIT ?",
                 params + [limit])


def by_case(db, code: str, *, platform: str | None = None, author: str | None = None,
            area: str | None = None, limit: int = 20) -> list[dict]:
    """The active reports of one case (「K-012」 and 「k012」 alike): one author's, or an area's."""
    where, params = ["status = 'active'", "replace(upper(case_code), '-', '') = ?"], [case_key(code)]
    for cond, value in (("platform = ?", platform), ("author = ?", author), ("area = ?", area)):
        if value:
            where.append(cond)
            params.append(value)
    return _rows(db, f"SELECT * FROM reports WHERE {' AND '.join(where)} ORDER BY date DESC, id DESC LIMIT ?",
                 params + [limit])


def query(db, *, since: str | None = None, until: str | None = None, area: str | None = None,
          rtype: str | None = None) -> list[dict]:
    where, params = ["status = 'active'"], []
    for cond, value in (("date >= ?", since), ("date <= ?", until), ("area = ?", area), ("type = ?", rtype)):
        if value:
            where.append(cond)
            params.append(value)
    return _rows(db, f"SELECT * FROM reports WHERE {' AND '.join(where)} ORDER BY date, id", params)


def purge(db, *, days: int, now: datetime, apply: bool, dialogs) -> list[int]:
    """Reports older than ``days`` (by their date, withdrawn ones too): listed, and deleted only
    with ``apply``.  Deleting takes their photos' rows in the same transaction and their files
    right after it (a file already gone is no error), leaves one 'purge' audit entry per report
    and clears the fields kept in its earlier audit entries, so no report text outlives the
    retention period; the audit keeps who did what and when.  Then :func:`sweep_photos` runs, with
    ``dialogs`` (the app's, which knows each dialog's timeout)."""
    cutoff = (now.astimezone(TZ).date() - timedelta(days=days)).isoformat()
    old = "SELECT id FROM reports WHERE date < ?"
    if not apply:
        return [r[0] for r in db.execute(old + " ORDER BY id", [cutoff]).fetchall()]
    with immediate(db.conn) as conn:
        ids = [r[0] for r in conn.execute(old + " ORDER BY id", [cutoff]).fetchall()]
        files = [r[0] for r in conn.execute(f"SELECT path FROM report_photos WHERE report_id IN ({old})", [cutoff])]
        conn.execute(f"UPDATE report_audit SET before = NULL, after = NULL WHERE report_id IN ({old})", [cutoff])
        conn.execute("INSERT INTO report_audit (report_id, action, by, before, after, at) "
                     "SELECT id, 'purge', 'retention', NULL, NULL, ? FROM reports WHERE date < ? ORDER BY id",
                     [_utc(now), cutoff])
        conn.execute(f"DELETE FROM report_photos WHERE report_id IN ({old})", [cutoff])
        conn.execute("DELETE FROM reports WHERE date < ?", [cutoff])
    discard_photos(db, files)
    sweep_photos(db, now, dialogs)
    return ids


# --- photo files -------------------------------------------------------------------------------
# A photo is stored (bot.reports.photos.store) when it is sent, into the draft held in the dialog state; it
# gets a row in report_photos only when the report is saved.  A file is therefore kept while a
# live draft or a saved report names it, and deleted when the draft ends unsaved (the dialog's
# on_end hook, bot/handlers/report.py), when its report is purged, or by sweep_photos.

log = logging.getLogger(__name__)
_PHOTO_FILE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}-[0-9a-f]{12}\.(?:jpg|png)")
_LEFTOVER = re.compile(r"\.[A-Za-z0-9][A-Za-z0-9_.-]{0,63}-[A-Za-z0-9_]+\.tmp")  # from a store() cut short
SWEEP_AFTER = timedelta(minutes=30)  # a file younger than this may be a photo being stored right now


def photo_dir(db) -> Path | None:
    """The ``photos`` directory beside the database file; None for an in-memory database."""
    file = file_of(db)
    return Path(file).parent / "photos" if file else None


def discard_photos(db, paths) -> int:
    """Delete the files among ``paths`` that no saved report holds (the photos of a draft that
    ended without being saved); how many were deleted."""
    paths = list(dict.fromkeys(paths))
    if not paths:
        return 0
    held = {r[0] for r in db.execute(
        f"SELECT path FROM report_photos WHERE path IN ({','.join('?' * len(paths))})", paths).fetchall()}
    return _delete_files(db, [p for p in paths if p not in held])


def sweep_photos(db, now: datetime, dialogs) -> int:
    """Forget timed-out dialog states (drafts of users who never came back) and delete every photo
    file that neither a saved report nor a live draft names, once it is older than SWEEP_AFTER
    (also files left by a crash between storing a photo and noting it in the draft); how many.
    ``dialogs`` is the app's :class:`bot.chat.dialogs.Dialogs`: it knows each dialog's timeout (an
    answer being paged lives a day, not the default 30 minutes) and a draft's end hook."""
    dialogs.sweep(now)
    d = photo_dir(db)
    if d is None or not d.is_dir():
        return 0
    held = {Path(r[0]).name for r in db.execute("SELECT path FROM report_photos").fetchall()}
    for (data,) in db.execute("SELECT data FROM dialog_state").fetchall():
        held.update(_PHOTO_FILE.findall(data))
    limit = (now - SWEEP_AFTER).timestamp()
    stale = []
    with os.scandir(d) as entries:
        for entry in entries:
            if entry.name in held or not (_PHOTO_FILE.fullmatch(entry.name) or _LEFTOVER.fullmatch(entry.name)):
                continue
            try:
                if entry.is_file(follow_symlinks=False) and entry.stat(follow_symlinks=False).st_mtime < limit:
                    stale.append(entry.name)
            except OSError:
                continue
    return _delete_files(db, stale)


def _delete_files(db, paths) -> int:
    """Delete photo files by name, only inside :func:`photo_dir` and only names a photo can have."""
    d = photo_dir(db)
    if d is None:
        return 0
    n = 0
    for name in {Path(p).name for p in paths}:
        if not (_PHOTO_FILE.fullmatch(name) or _LEFTOVER.fullmatch(name)):
            continue
        try:
            (d / name).unlink()
            n += 1
        except FileNotFoundError:
            pass
        except OSError as e:  # kept for the next sweep; the name holds nothing personal, but say only the kind
            log.warning("photo file not deleted: %s", type(e).__name__)
    return n


def _utc(t: datetime) -> str:
    return t.astimezone(timezone.utc).isoformat()

