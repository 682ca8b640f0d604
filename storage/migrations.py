"""The numbered migrations that own every table of Nimo's database, and ``migrate``.

Every table is here, those of the case base (``local_cases``, ``withdrawn_cases``) and of the
reminder engine (``reminders``, ``events``, ``plans``, ``visits``, ``leases``...) included: one
database file holds them all, so one ordered list says what it holds and one number
(``PRAGMA user_version``) says how far a file has come.  Migrations are applied in order at start,
each in its own transaction, so a half-applied migration never stays behind.  An applied migration
is never edited: a change is a new one at the end.
"""
from __future__ import annotations

import sqlite3

MIGRATIONS: tuple[str, ...] = (
    # 1: what the case search needs
    """
    CREATE TABLE dialog_state (
        platform TEXT NOT NULL,
        user TEXT NOT NULL,
        name TEXT NOT NULL,            -- a readable state name, e.g. 'answer'
        data TEXT NOT NULL,            -- JSON
        updated_at TEXT NOT NULL,      -- ISO 8601, UTC
        PRIMARY KEY (platform, user)
    );
    CREATE TABLE gaps (
        id INTEGER PRIMARY KEY,
        question TEXT NOT NULL,        -- exactly what the user typed
        key TEXT NOT NULL,             -- normalised, to count repeats together
        reason TEXT NOT NULL,          -- 'no_match', 'too_long', 'empty', 'no_text'
        platform TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE INDEX gaps_key ON gaps(key);
    CREATE TABLE feedback (
        id INTEGER PRIMARY KEY,
        platform TEXT NOT NULL,
        user TEXT NOT NULL,
        question TEXT NOT NULL,
        case_ids TEXT NOT NULL,        -- JSON list of the cases shown
        vote INTEGER NOT NULL CHECK (vote IN (-1, 1)),
        created_at TEXT NOT NULL
    );
    CREATE TABLE local_cases (
        id TEXT PRIMARY KEY,
        yaml TEXT NOT NULL,
        imported_at TEXT NOT NULL
    );
    """,
    # 2: who may use Nimo, and the webhook inbox (dedupe and crash recovery)
    """
    CREATE TABLE users (
        platform TEXT NOT NULL,        -- 'line' or 'slack'
        user_id TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('staff', 'supervisor')),
        area TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (platform, user_id)
    );
    CREATE TABLE invites (
        code TEXT PRIMARY KEY,
        role TEXT NOT NULL CHECK (role IN ('staff', 'supervisor')),
        area TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        used_by TEXT,                  -- 'platform:user_id' once used
        used_at TEXT
    );
    CREATE TABLE inbox (
        id INTEGER PRIMARY KEY,
        platform TEXT NOT NULL,
        event_id TEXT NOT NULL,        -- LINE webhookEventId, Slack event_id
        payload TEXT NOT NULL,         -- the event as received (JSON)
        status TEXT NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'working', 'done', 'failed')),
        received_at TEXT NOT NULL,
        claimed_at TEXT,
        done_at TEXT,
        UNIQUE (platform, event_id)
    );
    CREATE INDEX inbox_status ON inbox(status);
    """,
    # 3: reminders, events, follow-up visit plans, and the record of every delivery
    """
    CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        platform TEXT NOT NULL, owner TEXT NOT NULL, target TEXT NOT NULL, is_group INTEGER NOT NULL,
        title TEXT NOT NULL,
        starts_at TEXT NOT NULL,       -- UTC ISO 8601
        status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'cancelled')),
        created_at TEXT NOT NULL
    );
    CREATE TABLE rsvps (
        event_id INTEGER NOT NULL REFERENCES events(id),
        platform TEXT NOT NULL, user TEXT NOT NULL,
        answer TEXT NOT NULL CHECK (answer IN ('yes', 'no')),
        updated_at TEXT NOT NULL,
        PRIMARY KEY (event_id, platform, user)
    );
    CREATE TABLE plans (
        id INTEGER PRIMARY KEY,
        platform TEXT NOT NULL, owner TEXT NOT NULL, area TEXT NOT NULL,
        case_code TEXT NOT NULL,       -- never a name
        plan TEXT NOT NULL,            -- a key of scheduler/plans.yaml
        anchor TEXT NOT NULL,          -- the date the plan counts from (discharge), YYYY-MM-DD
        status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'cancelled', 'closed')),
        created_at TEXT NOT NULL
    );
    CREATE TABLE visits (
        id INTEGER PRIMARY KEY,
        plan_id INTEGER NOT NULL REFERENCES plans(id),
        seq INTEGER NOT NULL,
        label TEXT NOT NULL,           -- 「1週間後」
        due TEXT NOT NULL, window_start TEXT NOT NULL, window_end TEXT NOT NULL,   -- dates
        status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done', 'unmet', 'cancelled')),
        reason TEXT,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE reminders (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('reminder', 'event', 'visit')),
        platform TEXT NOT NULL, owner TEXT NOT NULL, target TEXT NOT NULL, is_group INTEGER NOT NULL,
        title TEXT NOT NULL,
        due_at TEXT NOT NULL,          -- the next time it fires, UTC ISO 8601
        recurrence TEXT,               -- JSON of scheduler.timeparse.Recurrence, or NULL
        asked INTEGER NOT NULL DEFAULT 1,   -- the user chose this time (quiet hours do not apply)
        status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'done', 'cancelled', 'missed')),
        event_id INTEGER REFERENCES events(id),
        visit_id INTEGER REFERENCES visits(id),
        created_at TEXT NOT NULL, updated_at TEXT NOT NULL
    );
    CREATE INDEX reminders_due ON reminders(status, due_at);
    CREATE INDEX reminders_owner ON reminders(platform, owner, status);
    CREATE TABLE deliveries (
        key TEXT PRIMARY KEY,          -- 'reminder:42:2026-12-01T01:30:00+00:00', 'digest:line:U1:2026-12-01'
        reminder_id INTEGER,
        platform TEXT NOT NULL, target TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('claimed', 'sent', 'failed')),
        late INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL, sent_at TEXT
    );
    CREATE TABLE reminder_actions (
        id INTEGER PRIMARY KEY,
        reminder_id INTEGER, visit_id INTEGER,
        platform TEXT NOT NULL, user TEXT NOT NULL,
        action TEXT NOT NULL,          -- done, unmet, postpone, later, snooze, cancel, restore, change
        detail TEXT,
        created_at TEXT NOT NULL
    );
    CREATE TABLE prefs (
        platform TEXT NOT NULL, user TEXT NOT NULL,
        digest_time TEXT NOT NULL DEFAULT '08:30',
        PRIMARY KEY (platform, user)
    );
    CREATE TABLE leases (
        name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_at TEXT NOT NULL
    );
    """,
    # 4: field reports, their audit trail, and who sent an inbox event (to answer each person in order)
    """
    CREATE TABLE reports (
        id INTEGER PRIMARY KEY,        -- shown as R-000123
        platform TEXT NOT NULL, author TEXT NOT NULL, area TEXT NOT NULL,
        type TEXT NOT NULL CHECK (type IN ('訪問', '電話', '同行受診', '会議・協議の場', 'ピア活動', 'その他')),
        date TEXT NOT NULL,            -- YYYY-MM-DD, the day of the activity
        case_code TEXT,
        summary TEXT NOT NULL,
        next_action TEXT, next_date TEXT,
        status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'withdrawn')),
        source_key TEXT UNIQUE,        -- the chat event that saved it: a redelivery cannot save it twice
        created_at TEXT NOT NULL, updated_at TEXT NOT NULL
    );
    CREATE INDEX reports_author ON reports(platform, author, date);
    CREATE INDEX reports_area ON reports(area, date);
    CREATE TABLE report_audit (
        id INTEGER PRIMARY KEY,
        report_id INTEGER NOT NULL,
        action TEXT NOT NULL CHECK (action IN ('create', 'edit', 'withdraw', 'purge')),
        by TEXT NOT NULL,
        before TEXT, after TEXT,       -- JSON of the fields
        at TEXT NOT NULL
    );
    ALTER TABLE inbox ADD COLUMN sender TEXT;
    ALTER TABLE inbox ADD COLUMN claimed_by TEXT;
    CREATE INDEX inbox_sender ON inbox(sender, id);
    """,
    # 5: photos attached to reports (files beside the database, metadata stripped)
    """
    CREATE TABLE report_photos (
        id INTEGER PRIMARY KEY,
        report_id INTEGER NOT NULL REFERENCES reports(id),
        path TEXT NOT NULL,
        bytes INTEGER NOT NULL,
        created_at TEXT NOT NULL
    );
    """,
    # 6: what the worker last heard from each platform's API (for /readyz; never a message)
    """
    CREATE TABLE health (
        name TEXT PRIMARY KEY,         -- 'slack_api', 'line_api'
        ok INTEGER NOT NULL,
        detail TEXT,                   -- the kind of failure, e.g. 'URLError'
        checked_at TEXT NOT NULL       -- UTC ISO 8601
    );
    """,
    # 7: the inbox's unfinished rows by sender, so finding each sender's next event to answer (and
    # checking that none of theirs is before it) is a seek, not a walk through two days of done rows
    """
    DROP INDEX inbox_sender;
    CREATE INDEX inbox_open ON inbox(sender, id) WHERE status IN ('new', 'working');
    """,
    # 8: the web console: an admin role (SQLite cannot change a CHECK, so users and invites are
    # rebuilt with their rows copied), one-time sign-in links, sessions, an append-only access log,
    # a counter the worker reads to notice new local cases, withdrawn cases, handled gaps, and the
    # indexes the console's report queries need.
    """
    CREATE TABLE users_new (
        platform TEXT NOT NULL,
        user_id TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('staff', 'supervisor', 'admin')),
        area TEXT NOT NULL,
        created_at TEXT NOT NULL,
        display_name TEXT,             -- set by an admin in the console; never sent to a platform
        PRIMARY KEY (platform, user_id)
    );
    INSERT INTO users_new (platform, user_id, role, area, created_at)
        SELECT platform, user_id, role, area, created_at FROM users;
    DROP TABLE users;
    ALTER TABLE users_new RENAME TO users;
    CREATE INDEX users_area ON users(area);
    CREATE TABLE invites_new (
        code TEXT PRIMARY KEY,
        role TEXT NOT NULL CHECK (role IN ('staff', 'supervisor', 'admin')),
        area TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        used_by TEXT,
        used_at TEXT,
        revoked_at TEXT                -- revoking also moves expires_at to that moment
    );
    INSERT INTO invites_new (code, role, area, created_at, expires_at, used_by, used_at)
        SELECT code, role, area, created_at, expires_at, used_by, used_at FROM invites;
    DROP TABLE invites;
    ALTER TABLE invites_new RENAME TO invites;
    CREATE TABLE console_links (
        token_hash TEXT PRIMARY KEY,   -- sha256 of the token: the database never holds a usable link
        platform TEXT NOT NULL, user_id TEXT NOT NULL,
        created_at TEXT NOT NULL, expires_at TEXT NOT NULL,
        used_at TEXT
    );
    CREATE TABLE console_sessions (
        id_hash TEXT PRIMARY KEY,      -- sha256 of the cookie's value
        platform TEXT NOT NULL, user_id TEXT NOT NULL,
        csrf TEXT NOT NULL,
        created_at TEXT NOT NULL, expires_at TEXT NOT NULL,
        ended_at TEXT
    );
    CREATE TABLE access_log (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,              -- UTC ISO 8601
        who TEXT NOT NULL,             -- 'platform:user_id'
        action TEXT NOT NULL,          -- 'view_report', 'download_csv', 'add_case', ...
        target TEXT,                   -- 'R-000123', a case id, a user
        detail TEXT                    -- filters or the change, never a report's text
    );
    CREATE INDEX access_log_at ON access_log(at);
    CREATE TRIGGER access_log_no_update BEFORE UPDATE ON access_log
        BEGIN SELECT RAISE(ABORT, 'access_log is append-only'); END;
    CREATE TRIGGER access_log_no_delete BEFORE DELETE ON access_log
        BEGIN SELECT RAISE(ABORT, 'access_log is append-only'); END;
    CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
    INSERT INTO counters (name, value) VALUES ('cases', 0);
    CREATE TRIGGER local_cases_added AFTER INSERT ON local_cases
        BEGIN UPDATE counters SET value = value + 1 WHERE name = 'cases'; END;
    CREATE TRIGGER local_cases_changed AFTER UPDATE ON local_cases
        BEGIN UPDATE counters SET value = value + 1 WHERE name = 'cases'; END;
    CREATE TRIGGER local_cases_removed AFTER DELETE ON local_cases
        BEGIN UPDATE counters SET value = value + 1 WHERE name = 'cases'; END;
    CREATE TABLE withdrawn_cases (
        id TEXT NOT NULL, yaml TEXT NOT NULL, imported_at TEXT NOT NULL,
        withdrawn_at TEXT NOT NULL, withdrawn_by TEXT NOT NULL
    );
    CREATE TABLE gaps_handled (
        kind TEXT NOT NULL CHECK (kind IN ('gap', 'down')),
        key TEXT NOT NULL,             -- gaps.key, or the 👎 question
        handled_at TEXT NOT NULL, handled_by TEXT NOT NULL,
        PRIMARY KEY (kind, key)
    );
    CREATE INDEX feedback_vote ON feedback(vote, question);
    CREATE INDEX reports_date ON reports(status, date, id);
    CREATE INDEX reports_area_type ON reports(area, type, date);
    CREATE INDEX report_audit_report ON report_audit(report_id);
    CREATE INDEX report_photos_report ON report_photos(report_id);
    CREATE INDEX plans_area ON plans(area, status);
    CREATE INDEX visits_plan ON visits(plan_id);
    CREATE TABLE case_proposals (      -- 「事例提案」 from the field, until a curator publishes or declines it
        id INTEGER PRIMARY KEY,        -- shown as P-12
        platform TEXT NOT NULL, user_id TEXT NOT NULL, area TEXT NOT NULL,
        problem TEXT NOT NULL, action TEXT NOT NULL, outcome TEXT NOT NULL, contact TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published', 'declined')),
        case_id TEXT, reason TEXT, decided_by TEXT, decided_at TEXT,
        created_at TEXT NOT NULL, updated_at TEXT NOT NULL
    );
    CREATE INDEX case_proposals_status ON case_proposals(status, area);
    CREATE TABLE chat_notices (        -- a sentence for one user, sent by the worker (nimo worker)
        id INTEGER PRIMARY KEY,
        platform TEXT NOT NULL, user_id TEXT NOT NULL,
        text TEXT NOT NULL,
        created_at TEXT NOT NULL, sent_at TEXT,
        attempts INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX chat_notices_unsent ON chat_notices(sent_at, id);
    """,
    # 9: a dialog state per (platform, user, conversation), so that a pending confirmation, an
    # answer's paging and a report being written no longer overwrite each other (bot/chat/dialogs.py)
    """
    CREATE TABLE dialog_state_new (
        platform TEXT NOT NULL,
        user TEXT NOT NULL,
        slot TEXT NOT NULL,            -- the conversation the state belongs to, e.g. 'report'
        name TEXT NOT NULL,            -- a readable state name, e.g. 'report_step'
        data TEXT NOT NULL,            -- JSON
        updated_at TEXT NOT NULL,      -- ISO 8601, UTC
        PRIMARY KEY (platform, user, slot)
    );
    INSERT INTO dialog_state_new (platform, user, slot, name, data, updated_at)
        SELECT platform, user,
               CASE WHEN name LIKE 'report%' THEN 'report' WHEN name LIKE 'proposal%' THEN 'proposal' ELSE name END,
               name, data, updated_at FROM dialog_state;
    DROP TABLE dialog_state;
    ALTER TABLE dialog_state_new RENAME TO dialog_state;
    """,
    # 10: the peer-supporter role ('peer': users and invites rebuilt with their rows
    # copied, as in 8, since SQLite cannot change a CHECK), and the time of a report's next step
    # (「次回12/10 14時」: its reminder rings at that time, not at the morning notice)
    """
    CREATE TABLE users_new (
        platform TEXT NOT NULL,
        user_id TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('staff', 'supervisor', 'admin', 'peer')),
        area TEXT NOT NULL,
        created_at TEXT NOT NULL,
        display_name TEXT,             -- set by an admin in the console; never sent to a platform
        PRIMARY KEY (platform, user_id)
    );
    INSERT INTO users_new (platform, user_id, role, area, created_at, display_name)
        SELECT platform, user_id, role, area, created_at, display_name FROM users;
    DROP TABLE users;
    ALTER TABLE users_new RENAME TO users;
    CREATE INDEX users_area ON users(area);
    CREATE TABLE invites_new (
        code TEXT PRIMARY KEY,
        role TEXT NOT NULL CHECK (role IN ('staff', 'supervisor', 'admin', 'peer')),
        area TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        used_by TEXT,
        used_at TEXT,
        revoked_at TEXT                -- revoking also moves expires_at to that moment
    );
    INSERT INTO invites_new (code, role, area, created_at, expires_at, used_by, used_at, revoked_at)
        SELECT code, role, area, created_at, expires_at, used_by, used_at, revoked_at FROM invites;
    DROP TABLE invites;
    ALTER TABLE invites_new RENAME TO invites;
    ALTER TABLE reports ADD COLUMN next_time TEXT;  -- HH:MM in Japan time, or NULL: a day only
    """,
    # 11: a person who leaves is deactivated, never deleted, so their past reports
    # keep their name; and the platform API failures an operator reads in ``nimo status`` (where and
    # what, never a target or a message)
    """
    ALTER TABLE users ADD COLUMN removed_at TEXT;   -- UTC ISO 8601; NULL while the person uses Nimo
    ALTER TABLE users ADD COLUMN removed_by TEXT;   -- 'cli' or 'platform:user_id' of the admin
    CREATE TABLE delivery_failures (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,              -- UTC ISO 8601
        platform TEXT NOT NULL,        -- 'line', 'slack', 'lineworks'
        endpoint TEXT NOT NULL,        -- the API path only, e.g. '/v2/bot/message/reply'
        status INTEGER,                -- the HTTP status, NULL when no answer came (a timeout)
        error TEXT NOT NULL,           -- the kind of failure, e.g. 'ApiException'
        attempt INTEGER NOT NULL,
        retried INTEGER NOT NULL       -- 1: it will be tried again; 0: given up
    );
    """,
    # 12: invite codes kept only as their SHA-256 (the code is shown once, when made;
    # existing rows are hashed here), with a hint to tell them apart, who made each (told when it is
    # seen in a group), times in UTC; the failed tries of codes (to hold guessing); the area a local
    # case was added for (a supervisor withdraws their own area's only); the area of the one who
    # asked a question that found no case (a supervisor reads their own area's).
    """
    CREATE TABLE invites_new (
        id INTEGER PRIMARY KEY,
        code_hash TEXT NOT NULL UNIQUE,  -- sha256 of the code as typed (upper case, no dashes or spaces)
        hint TEXT NOT NULL,            -- the first two characters and …: enough to tell codes apart
        role TEXT NOT NULL CHECK (role IN ('staff', 'supervisor', 'admin', 'peer')),
        area TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,      -- UTC ISO 8601
        used_by TEXT,
        used_at TEXT,
        revoked_at TEXT,               -- revoking also moves expires_at to that moment
        created_by TEXT                -- 'platform:user_id' of a chat user, 'cli', or NULL (made before this)
    );
    INSERT INTO invites_new (code_hash, hint, role, area, created_at, expires_at, used_by, used_at, revoked_at)
        SELECT nimo_sha256(code), substr(code, 1, 2) || '…', role, area, created_at, nimo_utc(expires_at),
               used_by, used_at, revoked_at FROM invites;
    DROP TABLE invites;
    ALTER TABLE invites_new RENAME TO invites;
    CREATE TABLE invite_attempts (     -- one row a failed 「登録 CODE」
        id INTEGER PRIMARY KEY,
        platform TEXT NOT NULL, user_id TEXT NOT NULL,
        code_hash TEXT NOT NULL,       -- of the code tried, never the code
        at TEXT NOT NULL               -- UTC ISO 8601
    );
    CREATE INDEX invite_attempts_user ON invite_attempts(platform, user_id, at);
    CREATE INDEX invite_attempts_code ON invite_attempts(code_hash, at);
    ALTER TABLE local_cases ADD COLUMN area TEXT;      -- the area of the curator who added it; NULL: an admin's
    ALTER TABLE withdrawn_cases ADD COLUMN area TEXT;
    ALTER TABLE gaps ADD COLUMN area TEXT;             -- the asker's area; NULL: the terminal, the CLI, before this
    """,
    # 13: which report's 「次回」 set a reminder, so that withdrawing the report cancels
    # it and a correction of 「次回」 moves it.  No REFERENCES: the retention purge deletes reports,
    # and the reminder, sent or not, stays in the reminders' own history.
    """
    ALTER TABLE reminders ADD COLUMN report_id INTEGER;
    CREATE INDEX reminders_report ON reminders(report_id) WHERE report_id IS NOT NULL;
    """,
)


def _sql_functions(conn: sqlite3.Connection) -> None:
    """Functions migrations use: SQLite has no SHA-256, and old rows hold times in any zone."""
    import hashlib
    from datetime import datetime, timezone

    def utc(iso):
        if iso is None:
            return None
        t = datetime.fromisoformat(iso)
        return t.astimezone(timezone.utc).isoformat() if t.tzinfo else iso
    conn.create_function("nimo_sha256", 1, lambda s: None if s is None else hashlib.sha256(
        str(s).strip().upper().replace("-", "").replace(" ", "").encode("utf-8")).hexdigest(), deterministic=True)
    conn.create_function("nimo_utc", 1, utc, deterministic=True)


def migrate(db) -> int:
    """Apply the migrations not yet applied to ``db`` (anything with ``.conn``: a sqlite-utils
    ``Database``); return the version reached."""
    conn = db.conn
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    _sql_functions(conn)
    for number, sql in enumerate(MIGRATIONS, start=1):
        if number <= version:
            continue
        try:
            conn.executescript(f"BEGIN IMMEDIATE; {sql}; PRAGMA user_version = {number}; COMMIT;")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        version = number
    return version
