"""The listening-test store: one SQLite file (``workspace_dir()/listen.db``) in WAL mode.

Every write is one short ``BEGIN IMMEDIATE`` transaction with ``synchronous=FULL``, so a vote that
was acknowledged survives the process being killed, and a vote that was not is absent, never half
there. ``UNIQUE(participant_id, pair_id)`` makes a second vote on a pair impossible at the lowest
level. The schema carries its version in ``schema_version`` and is migrated forward on open.

Words used below: a test compares two *systems* (the test's first and second, "system 1/2"); a
*pair* is one chart and seed rendered by both; the *sides* A and B are what a participant hears,
and which system plays on side A is decided per participant (see ``randomise``).
"""
from __future__ import annotations

import re
import sqlite3
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from ..common.errors import StudioError
from ..common.paths import workspace_dir

TEST_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
BUSY_TIMEOUT_MS = 10_000  # a vote waits this long for another writer before giving up

# Each migration takes the schema from version i to i+1; never edit one that has shipped.
MIGRATIONS: tuple[str, ...] = (
    # 1: tests, clips, pairs, participants, their per-participant pair order, votes
    """
    CREATE TABLE tests (
        id          TEXT PRIMARY KEY,
        name        TEXT NOT NULL,
        status      TEXT NOT NULL CHECK (status IN ('open', 'closed')),
        seed        INTEGER NOT NULL,
        system_1    TEXT NOT NULL,
        system_2    TEXT NOT NULL,
        config_json TEXT NOT NULL,
        created_at  TEXT NOT NULL,
        closed_at   TEXT,
        CHECK (system_1 <> system_2)
    );
    CREATE TABLE clips (
        id             INTEGER PRIMARY KEY,
        test_id        TEXT NOT NULL REFERENCES tests(id) ON DELETE CASCADE,
        system         TEXT NOT NULL,
        model          TEXT NOT NULL,
        style          TEXT NOT NULL,
        chart_name     TEXT NOT NULL,
        chart_text     TEXT NOT NULL,
        seed           INTEGER NOT NULL,
        bars           INTEGER NOT NULL,
        tempo_bpm      REAL NOT NULL,
        file           TEXT NOT NULL,
        midi_file      TEXT NOT NULL,
        duration_s     REAL NOT NULL,
        loudness_lufs  REAL,
        sample_rate_hz INTEGER NOT NULL,
        soundfont      TEXT NOT NULL,
        sha256         TEXT NOT NULL,
        UNIQUE (test_id, system, chart_name, seed)
    );
    CREATE TABLE pairs (
        id              INTEGER PRIMARY KEY,
        test_id         TEXT NOT NULL REFERENCES tests(id) ON DELETE CASCADE,
        chart_index     INTEGER NOT NULL,
        chart_name      TEXT NOT NULL,
        seed            INTEGER NOT NULL,
        clip_1_id       INTEGER NOT NULL REFERENCES clips(id),
        clip_2_id       INTEGER NOT NULL REFERENCES clips(id),
        UNIQUE (test_id, chart_name, seed)
    );
    CREATE TABLE participants (
        id         INTEGER PRIMARY KEY,
        test_id    TEXT NOT NULL REFERENCES tests(id) ON DELETE CASCADE,
        token      TEXT NOT NULL UNIQUE,
        name       TEXT NOT NULL DEFAULT '',
        experience TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL
    );
    CREATE TABLE assignments (
        participant_id INTEGER NOT NULL REFERENCES participants(id) ON DELETE CASCADE,
        pair_id        INTEGER NOT NULL REFERENCES pairs(id),
        position       INTEGER NOT NULL,
        system_1_on_a  INTEGER NOT NULL CHECK (system_1_on_a IN (0, 1)),
        PRIMARY KEY (participant_id, pair_id),
        UNIQUE (participant_id, position)
    );
    CREATE TABLE votes (
        id             INTEGER PRIMARY KEY,
        participant_id INTEGER NOT NULL REFERENCES participants(id) ON DELETE CASCADE,
        pair_id        INTEGER NOT NULL REFERENCES pairs(id),
        choice         TEXT NOT NULL CHECK (choice IN ('A', 'B', 'tie')),
        winner         INTEGER CHECK (winner IN (1, 2)),
        comment        TEXT NOT NULL DEFAULT '',
        created_at     TEXT NOT NULL,
        UNIQUE (participant_id, pair_id),
        FOREIGN KEY (participant_id, pair_id) REFERENCES assignments(participant_id, pair_id),
        CHECK ((choice = 'tie') = (winner IS NULL))
    );
    """,
    # 2: indexes for the results queries
    """
    CREATE INDEX votes_by_pair ON votes(pair_id);
    CREATE INDEX participants_by_test ON participants(test_id);
    CREATE INDEX pairs_by_test ON pairs(test_id);
    """,
    # 3: more than two systems, hidden checks (repeated and catch pairs), play events, listening time.
    # pairs is rebuilt (its UNIQUE (test_id, chart_name, seed) allowed one pair per chart and seed);
    # tests made before this keep no play rule (min_play_s NULL): a running test's rules never change.
    """
    CREATE TABLE pairs_v3 (
        id          INTEGER PRIMARY KEY,
        test_id     TEXT NOT NULL REFERENCES tests(id) ON DELETE CASCADE,
        chart_index INTEGER NOT NULL,
        chart_name  TEXT NOT NULL,
        seed        INTEGER NOT NULL,
        clip_1_id   INTEGER NOT NULL REFERENCES clips(id),
        clip_2_id   INTEGER NOT NULL REFERENCES clips(id),
        kind        TEXT NOT NULL DEFAULT 'main' CHECK (kind IN ('main', 'repeat', 'catch')),
        repeat_of   INTEGER REFERENCES pairs(id),
        UNIQUE (test_id, clip_1_id, clip_2_id, kind),
        CHECK ((kind = 'repeat') = (repeat_of IS NOT NULL))
    );
    INSERT INTO pairs_v3 (id, test_id, chart_index, chart_name, seed, clip_1_id, clip_2_id)
        SELECT id, test_id, chart_index, chart_name, seed, clip_1_id, clip_2_id FROM pairs;
    DROP TABLE pairs;
    ALTER TABLE pairs_v3 RENAME TO pairs;
    CREATE INDEX pairs_by_test ON pairs(test_id);
    ALTER TABLE tests ADD COLUMN systems_json TEXT;
    ALTER TABLE tests ADD COLUMN min_play_s REAL;
    ALTER TABLE votes ADD COLUMN listened_a_s REAL;
    ALTER TABLE votes ADD COLUMN listened_b_s REAL;
    ALTER TABLE votes ADD COLUMN plays_a INTEGER;
    ALTER TABLE votes ADD COLUMN plays_b INTEGER;
    ALTER TABLE votes ADD COLUMN pair_time_s REAL;
    CREATE TABLE plays (
        id             INTEGER PRIMARY KEY,
        participant_id INTEGER NOT NULL REFERENCES participants(id) ON DELETE CASCADE,
        pair_id        INTEGER NOT NULL REFERENCES pairs(id),
        side           TEXT NOT NULL CHECK (side IN ('A', 'B')),
        event          TEXT NOT NULL CHECK (event IN ('play', 'pause', 'ended')),
        at_s           REAL NOT NULL,
        FOREIGN KEY (participant_id, pair_id) REFERENCES assignments(participant_id, pair_id)
    );
    CREATE INDEX plays_by_pair ON plays(participant_id, pair_id);
    """,
)
# migrations that rebuild a table run with foreign keys off, then check them (SQLite's 12-step recipe)
REBUILDS = {3}
SCHEMA_VERSION = len(MIGRATIONS)


def db_path() -> Path:
    """Where the store lives: ``workspace_dir()/listen.db``."""
    return workspace_dir() / "listen.db"


def listen_dir(test_id: str) -> Path:
    """The folder that holds a test's clips and exports: ``workspace_dir()/listen/<test_id>/``."""
    return workspace_dir() / "listen" / check_test_id(test_id)


def check_test_id(test_id: str) -> str:
    """``test_id`` if it has the shape of one (lowercase letters, digits, dashes), else StudioError."""
    test_id = str(test_id or "").strip()
    if not TEST_ID_PATTERN.match(test_id):
        raise StudioError(f"{test_id!r} is not a listening-test id (lowercase letters, digits and "
                          "dashes, e.g. gospel-vs-rules-3f2a1c)")
    return test_id


def now_iso() -> str:
    """UTC time as ISO 8601 with seconds."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def schema_version(conn: sqlite3.Connection) -> int:
    """The version the open database is at (0 for a new file)."""
    conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def migrate(conn: sqlite3.Connection, target: int = SCHEMA_VERSION) -> int:
    """Apply the migrations after the database's version up to ``target``; returns the new version."""
    current = schema_version(conn)
    if current > SCHEMA_VERSION:
        raise StudioError(f"listen.db is at schema version {current}, newer than this studio "
                          f"({SCHEMA_VERSION}); update the studio")
    for version in range(current + 1, target + 1):
        rebuild = version in REBUILDS
        if rebuild:
            conn.execute("PRAGMA foreign_keys = OFF")  # a no-op inside a transaction: set before
        try:
            with transaction(conn):
                if schema_version(conn) >= version:  # another process got there first
                    continue
                for statement in MIGRATIONS[version - 1].split(";"):
                    if statement.strip():
                        conn.execute(statement)
                broken = conn.execute("PRAGMA foreign_key_check").fetchall() if rebuild else []
                if broken:
                    raise StudioError(f"listen.db failed its migration to version {version}: "
                                      f"{len(broken)} rows point at rows that are gone")
                conn.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))
        finally:
            if rebuild:
                conn.execute("PRAGMA foreign_keys = ON")
    return max(current, target)


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction that takes the write lock at once; commit on success, else roll back."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


@contextmanager
def connect(path: str | Path | None = None, target_version: int = SCHEMA_VERSION
            ) -> Iterator[sqlite3.Connection]:
    """An open connection with WAL, foreign keys and FULL sync, migrated to ``target_version``."""
    path = Path(path) if path is not None else db_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    try:
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
        migrate(conn, target_version)
        yield conn
    finally:
        conn.close()


def get_test(conn: sqlite3.Connection, test_id: str) -> sqlite3.Row:
    """The test's row, or StudioError naming the id when there is none."""
    row = conn.execute("SELECT * FROM tests WHERE id = ?", (check_test_id(test_id),)).fetchone()
    if row is None:
        raise StudioError(f"there is no listening test {test_id!r}; check the link or pick one "
                          "from the list of tests")
    return row


def list_tests(path: str | Path | None = None) -> list[dict]:
    """Every test, newest first, with its counts of pairs, participants and votes."""
    with connect(path) as conn:
        rows = conn.execute(
            """SELECT t.id, t.name, t.status, t.system_1, t.system_2, t.created_at,
                      (SELECT COUNT(*) FROM pairs p WHERE p.test_id = t.id) AS pairs,
                      (SELECT COUNT(*) FROM participants u WHERE u.test_id = t.id) AS participants,
                      (SELECT COUNT(*) FROM votes v JOIN participants u ON u.id = v.participant_id
                        WHERE u.test_id = t.id) AS votes
               FROM tests t ORDER BY t.created_at DESC, t.id""").fetchall()
    return [dict(r) for r in rows]


def set_status(test_id: str, status: str, path: str | Path | None = None) -> dict:
    """Open or close a test (a closed test takes no new participants and no votes)."""
    if status not in ("open", "closed"):
        raise StudioError(f"a test's status must be open or closed (got {status!r})")
    with connect(path) as conn, transaction(conn):
        get_test(conn, test_id)
        conn.execute("UPDATE tests SET status = ?, closed_at = ? WHERE id = ?",
                     (status, now_iso() if status == "closed" else None, test_id))
    return {"test_id": test_id, "status": status}


def insert_test(conn: sqlite3.Connection, test: dict, clips: list[dict],
                pairs: list[tuple[int, str, int, int, int]]) -> None:
    """Write a test, its clips and its pairs (inside the caller's transaction).

    Args:
        test: the ``tests`` columns.
        clips: ``clips`` columns without ``id`` and ``test_id``, in the order ``pairs`` refers to.
        pairs: (chart_index, chart_name, seed, index of the first clip, index of the second clip),
            optionally followed by kind (main, repeat or catch) and, for a repeat, the index in
            ``pairs`` of the pair it repeats. A catch pair's second clip is the degraded copy.
    """
    columns = ", ".join(test)
    conn.execute(f"INSERT INTO tests ({columns}) VALUES ({', '.join('?' * len(test))})",
                 tuple(test.values()))
    clip_ids = []
    for clip in clips:
        row = {"test_id": test["id"], **clip}
        cursor = conn.execute(f"INSERT INTO clips ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                              tuple(row.values()))
        clip_ids.append(cursor.lastrowid)
    pair_ids: list[int] = []
    for chart_index, chart_name, seed, first, second, *extra in pairs:
        row = {"test_id": test["id"], "chart_index": chart_index, "chart_name": chart_name, "seed": seed,
               "clip_1_id": clip_ids[first], "clip_2_id": clip_ids[second]}
        if extra:  # plain pairs name no kind, so that a store at an older version takes them too
            row["kind"] = extra[0]
            row["repeat_of"] = pair_ids[extra[1]] if len(extra) > 1 and extra[1] is not None else None
        cursor = conn.execute(f"INSERT INTO pairs ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                              tuple(row.values()))
        pair_ids.append(cursor.lastrowid)


def test_systems(test: sqlite3.Row) -> list[str]:
    """The labels of a test's systems in their order (tests made before version 3 had two)."""
    import json

    if test["systems_json"]:
        return list(json.loads(test["systems_json"]))
    return [test["system_1"], test["system_2"]]


def describe_test(test_id: str, path: str | Path | None = None) -> dict:
    """What a participant may know about a test: its name, status, number of pairs (the hidden
    checks included, which look like any other pair) and the play rule."""
    with connect(path) as conn:
        test = get_test(conn, test_id)
        pairs = conn.execute("SELECT COUNT(*) FROM pairs WHERE test_id = ?", (test_id,)).fetchone()[0]
    return {"test_id": test["id"], "name": test["name"], "status": test["status"], "pairs": pairs,
            "min_play_s": test["min_play_s"]}

