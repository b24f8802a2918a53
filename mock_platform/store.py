"""The platform's state in SQLite: in memory by default, or in a file that survives restarts.

The store is not thread-safe on its own; the backend serialises access with its lock.
"""
from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY,
    sender TEXT NOT NULL,
    kind TEXT NOT NULL,
    record_id TEXT NOT NULL,
    content_sha256 TEXT NOT NULL,
    body TEXT NOT NULL,
    uscc TEXT,
    plan_number TEXT,
    task_number TEXT,
    receipt TEXT NOT NULL,
    received_at TEXT NOT NULL,
    source TEXT NOT NULL,
    UNIQUE (sender, kind, record_id)
);
CREATE INDEX IF NOT EXISTS records_uscc ON records (kind, uscc);
CREATE INDEX IF NOT EXISTS records_plan ON records (kind, plan_number);
CREATE INDEX IF NOT EXISTS records_task ON records (kind, task_number);
CREATE TABLE IF NOT EXISTS entities (uscc TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY,
    request_seq INTEGER NOT NULL,
    sender TEXT NOT NULL,
    kind TEXT NOT NULL,
    record_id TEXT,
    outcome TEXT NOT NULL,
    batch_id TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS requests (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    access_key TEXT,
    idempotency_key TEXT,
    status INTEGER,
    fault TEXT,
    replayed INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS exchanges (seq INTEGER PRIMARY KEY, detail TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS idempotency (
    access_key TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status INTEGER NOT NULL,
    headers TEXT NOT NULL,
    body BLOB NOT NULL,
    PRIMARY KEY (access_key, key)
);
CREATE TABLE IF NOT EXISTS nonces (
    access_key TEXT NOT NULL,
    nonce TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    PRIMARY KEY (access_key, nonce)
);
CREATE TABLE IF NOT EXISTS kv (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
DATA_TABLES = ("records", "entities", "events", "requests", "exchanges", "idempotency", "nonces", "kv")
SEED_SENDER = "_seed"


@dataclass(frozen=True)
class StoredRecord:
    """A record as stored, with the platform's receipt."""

    seq: int
    sender: str
    kind: str
    record_id: str
    content_sha256: str
    body: dict[str, Any]
    receipt: str
    received_at: str
    source: str

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "id": self.record_id,
            "receipt": self.receipt,
            "content_sha256": self.content_sha256,
            "received_at": self.received_at,
            "record": self.body,
        }


@dataclass(frozen=True)
class SavedResponse:
    """A response kept for an ``Idempotency-Key``."""

    fingerprint: str
    status: int
    headers: dict[str, str]
    body: bytes


class Store:
    """All state the platform keeps."""

    def __init__(self, path: str = ":memory:"):
        self.path = path
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        self._db.close()

    def clear(self) -> None:
        """Forget everything."""
        with self._transaction():
            for table in DATA_TABLES:
                self._db.execute(f"DELETE FROM {table}")

    def _transaction(self) -> "_Transaction":
        return _Transaction(self._db)

    def transaction(self) -> "_Transaction":
        """One transaction around several changes (e.g. a whole batch); nested ones join it."""
        return self._transaction()

    # --- records --------------------------------------------------------------------------------

    def find_record(self, sender: str, kind: str, record_id: str) -> StoredRecord | None:
        row = self._db.execute(
            "SELECT * FROM records WHERE sender = ? AND kind = ? AND record_id = ?", (sender, kind, record_id)
        ).fetchone()
        return _record(row) if row else None

    def record_digest(self, sender: str, kind: str, record_id: str) -> tuple[str, str] | None:
        """A stored record's ``(content_sha256, receipt)``, without decoding its body; None if absent."""
        row = self._db.execute(
            "SELECT content_sha256, receipt FROM records WHERE sender = ? AND kind = ? AND record_id = ?",
            (sender, kind, record_id),
        ).fetchone()
        return (row[0], row[1]) if row else None

    def insert_record(
        self, *, sender: str, kind: str, record_id: str, content_sha256: str, body: dict[str, Any],
        received_at: str, receipt_prefix: str, source: str = "pushed", body_json: str | None = None,
    ) -> StoredRecord:
        """Store a new record; its receipt is ``receipt_prefix`` followed by the store's sequence number.
        ``body_json``: the body's canonical JSON when the caller has it already."""
        with self._transaction():
            cursor = self._db.execute(
                "INSERT INTO records (sender, kind, record_id, content_sha256, body, uscc, plan_number,"
                " task_number, receipt, received_at, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, '', ?, ?)",
                (sender, kind, record_id, content_sha256, body_json or _dump(body), body.get("uscc"),
                 body.get("plan_number"), body.get("task_number"), received_at, source),
            )
            seq = cursor.lastrowid
            receipt = f"{receipt_prefix}{seq:08d}"
            self._db.execute("UPDATE records SET receipt = ? WHERE seq = ?", (receipt, seq))
        return StoredRecord(seq=seq, sender=sender, kind=kind, record_id=record_id, content_sha256=content_sha256,
                            body=body, receipt=receipt, received_at=received_at, source=source)

    def replace_seeded(self, kind: str, record_id: str, content_sha256: str, body: dict[str, Any],
                       received_at: str, receipt_prefix: str) -> StoredRecord:
        """Store (or overwrite) a record seeded through the control API as another authority's."""
        with self._transaction():
            self._db.execute(
                "DELETE FROM records WHERE sender = ? AND kind = ? AND record_id = ?", (SEED_SENDER, kind, record_id)
            )
            return self.insert_record(
                sender=SEED_SENDER, kind=kind, record_id=record_id, content_sha256=content_sha256, body=body,
                received_at=received_at, receipt_prefix=receipt_prefix, source="seeded",
            )

    def list_records(self, sender: str, kind: str, after: int, limit: int) -> list[StoredRecord]:
        rows = self._db.execute(
            "SELECT * FROM records WHERE sender = ? AND kind = ? AND seq > ? ORDER BY seq LIMIT ?",
            (sender, kind, after, limit),
        )
        return [_record(row) for row in rows]

    def records_by(self, kind: str, column: str, value: str) -> list[StoredRecord]:
        """Every sender's records of ``kind`` whose ``column`` (uscc, plan_number, task_number) is ``value``."""
        if column not in ("uscc", "plan_number", "task_number"):
            raise ValueError(f"not an indexed column: {column}")
        rows = self._db.execute(
            f"SELECT * FROM records WHERE kind = ? AND {column} = ? ORDER BY seq", (kind, value)
        )
        return [_record(row) for row in rows]

    def count_records(self, kind: str | None = None) -> dict[str, int]:
        """How many records are stored, by source (pushed by senders, or seeded through control)."""
        where = " WHERE kind = ?" if kind else ""
        rows = self._db.execute(f"SELECT source, COUNT(*) AS n FROM records{where} GROUP BY source", (kind,) if kind else ())
        counts = {"pushed": 0, "seeded": 0}
        counts.update({row["source"]: row["n"] for row in rows})
        return counts

    # --- entities -------------------------------------------------------------------------------

    def upsert_entity(self, entity: dict[str, Any]) -> None:
        self._db.execute(
            "INSERT INTO entities (uscc, body) VALUES (?, ?) ON CONFLICT (uscc) DO UPDATE SET body = excluded.body",
            (entity["uscc"], _dump(entity)),
        )

    def entity(self, uscc: str) -> dict[str, Any] | None:
        row = self._db.execute("SELECT body FROM entities WHERE uscc = ?", (uscc,)).fetchone()
        return json.loads(row["body"]) if row else None

    def known_usccs(self, usccs: set[str]) -> set[str]:
        if not usccs:
            return set()
        marks = ",".join("?" * len(usccs))
        rows = self._db.execute(f"SELECT uscc FROM entities WHERE uscc IN ({marks})", tuple(usccs))
        return {row["uscc"] for row in rows}

    # --- what was received ----------------------------------------------------------------------

    def add_event(self, *, request_seq: int, sender: str, kind: str, record_id: str | None,
                  outcome: str, batch_id: str, at: str) -> None:
        self._db.execute(
            "INSERT INTO events (request_seq, sender, kind, record_id, outcome, batch_id, at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (request_seq, sender, kind, record_id, outcome, batch_id, at),
        )

    def events(self, kind: str | None = None) -> list[dict[str, Any]]:
        query = "SELECT * FROM events" + (" WHERE kind = ?" if kind else "") + " ORDER BY seq"
        rows = self._db.execute(query, (kind,) if kind else ())
        return [
            {"seq": r["seq"], "request_seq": r["request_seq"], "sender": r["sender"], "kind": r["kind"],
             "id": r["record_id"], "outcome": r["outcome"], "batch_id": r["batch_id"], "at": r["at"]}
            for r in rows
        ]

    def start_request(self, *, at: str, method: str, path: str, idempotency_key: str | None) -> int:
        cursor = self._db.execute(
            "INSERT INTO requests (at, method, path, idempotency_key) VALUES (?, ?, ?, ?)",
            (at, method, path, idempotency_key),
        )
        return int(cursor.lastrowid)

    def finish_request(self, seq: int, *, status: int | None, access_key: str | None,
                       fault: str | None, replayed: bool) -> None:
        self._db.execute(
            "UPDATE requests SET status = ?, access_key = ?, fault = ?, replayed = ? WHERE seq = ?",
            (status, access_key, fault, int(replayed), seq),
        )

    def record_exchange(self, seq: int, detail: dict[str, Any]) -> None:
        """What was sent and answered (query, headers, bodies) for request ``seq``."""
        self._db.execute("INSERT OR REPLACE INTO exchanges (seq, detail) VALUES (?, ?)", (seq, _dump(detail)))

    def requests(self) -> list[dict[str, Any]]:
        rows = self._db.execute(
            "SELECT requests.*, exchanges.detail FROM requests LEFT JOIN exchanges USING (seq) ORDER BY seq"
        )
        return [
            {**{k: row[k] for k in row.keys() if k != "detail"}, "replayed": bool(row["replayed"]),
             **(json.loads(row["detail"]) if row["detail"] else {})}
            for row in rows
        ]

    # --- idempotency keys and nonces ------------------------------------------------------------

    def saved_response(self, access_key: str, key: str) -> SavedResponse | None:
        row = self._db.execute(
            "SELECT * FROM idempotency WHERE access_key = ? AND key = ?", (access_key, key)
        ).fetchone()
        if row is None:
            return None
        return SavedResponse(row["fingerprint"], row["status"], json.loads(row["headers"]), bytes(row["body"]))

    def save_response(self, access_key: str, key: str, saved: SavedResponse) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO idempotency (access_key, key, fingerprint, status, headers, body)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (access_key, key, saved.fingerprint, saved.status, _dump(saved.headers), saved.body),
        )

    def use_nonce(self, access_key: str, nonce: str, at_ms: int, forget_before_ms: int) -> bool:
        """Record a nonce; False if it was already used. Nonces older than ``forget_before_ms`` are dropped."""
        with self._transaction():
            self._db.execute("DELETE FROM nonces WHERE at_ms < ?", (forget_before_ms,))
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO nonces (access_key, nonce, at_ms) VALUES (?, ?, ?)", (access_key, nonce, at_ms)
            )
            return cursor.rowcount == 1

    # --- small persistent values (settings, credentials) ----------------------------------------

    def get_value(self, name: str) -> Any:
        row = self._db.execute("SELECT value FROM kv WHERE name = ?", (name,)).fetchone()
        return json.loads(row["value"]) if row else None

    def put_value(self, name: str, value: Any) -> None:
        self._db.execute(
            "INSERT INTO kv (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            (name, _dump(value)),
        )


class _Transaction:
    """``BEGIN`` ... ``COMMIT`` (or ``ROLLBACK`` on error); nested uses join the outer transaction."""

    def __init__(self, db: sqlite3.Connection):
        self._db = db
        self._outer = False

    def __enter__(self) -> None:
        self._outer = not self._db.in_transaction
        if self._outer:
            self._db.execute("BEGIN")

    def __exit__(self, exc_type: Any, *exc: Any) -> None:
        if self._outer:
            self._db.execute("ROLLBACK" if exc_type else "COMMIT")


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _record(row: sqlite3.Row) -> StoredRecord:
    return StoredRecord(
        seq=row["seq"], sender=row["sender"], kind=row["kind"], record_id=row["record_id"],
        content_sha256=row["content_sha256"], body=json.loads(row["body"]), receipt=row["receipt"],
        received_at=row["received_at"], source=row["source"],
    )
