"""SQLite state of the local service (WAL mode, one writer at a time, a connection per thread).

Tables: templates, runs, log lines, run outputs, and long-running operations (with the client
request id that started them, so a retried POST after a dropped connection never starts a second run).
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS templates (
    key TEXT PRIMARY KEY, sub TEXT NOT NULL, rg TEXT NOT NULL, name TEXT NOT NULL,
    location TEXT NOT NULL, body TEXT NOT NULL, provisioning_state TEXT NOT NULL,
    provisioning_error TEXT, ready_at REAL NOT NULL, created REAL NOT NULL, last_run TEXT
);
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY, template_key TEXT NOT NULL, state TEXT NOT NULL, sub_state TEXT,
    message TEXT NOT NULL DEFAULT '', start REAL NOT NULL, end_time REAL, cancel_requested INTEGER NOT NULL DEFAULT 0,
    failed_step TEXT
);
CREATE TABLE IF NOT EXISTS log_lines (
    run_id TEXT NOT NULL, seq INTEGER NOT NULL, at REAL NOT NULL, text TEXT NOT NULL, PRIMARY KEY (run_id, seq)
);
CREATE TABLE IF NOT EXISTS run_outputs (
    template_key TEXT NOT NULL, name TEXT NOT NULL, run_id TEXT NOT NULL, artifact_id TEXT, artifact_uri TEXT,
    provisioning_state TEXT NOT NULL, PRIMARY KEY (template_key, name)
);
CREATE TABLE IF NOT EXISTS operations (
    id TEXT PRIMARY KEY, template_key TEXT NOT NULL, kind TEXT NOT NULL, status TEXT NOT NULL,
    error_code TEXT, error_message TEXT, start REAL NOT NULL, end_time REAL, run_id TEXT, request_id TEXT
);
CREATE INDEX IF NOT EXISTS operations_request ON operations (template_key, kind, request_id);
CREATE TABLE IF NOT EXISTS resource_groups (
    key TEXT PRIMARY KEY, sub TEXT NOT NULL, name TEXT NOT NULL, location TEXT NOT NULL, tags TEXT,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS triggers (
    template_key TEXT NOT NULL, name TEXT NOT NULL, display_name TEXT NOT NULL, kind TEXT NOT NULL,
    created REAL NOT NULL, PRIMARY KEY (template_key, name)
);
"""
NOT_READY = 1e18  # ready_at of a template whose provisioning checks have not finished

ACTIVE_RUN_STATES = ("Running", "Canceling")
INTERRUPTED = "interrupted: the local service stopped during the run"


def template_key(sub: str, rg: str, name: str) -> str:
    return f"{sub.lower()}/{rg.lower()}/{name.lower()}"


@dataclass
class TemplateRow:
    key: str
    sub: str
    rg: str
    name: str
    location: str
    body: dict[str, Any]
    provisioning_state: str
    provisioning_error: dict[str, Any] | None
    ready_at: float
    last_run: str | None


@dataclass
class RunRow:
    id: str
    template_key: str
    state: str
    sub_state: str | None
    message: str
    start: float
    end_time: float | None
    cancel_requested: bool
    failed_step: str | None
    simulated: bool = True
    why_simulated: str = ""  # the reason a simulated run executes nothing
    sandbox: str | None = None  # the sandbox a real run executes in (bwrap, unshare)


@dataclass
class OperationRow:
    id: str
    template_key: str
    kind: str
    status: str
    error_code: str | None
    error_message: str | None
    start: float
    end_time: float | None
    run_id: str | None


@dataclass
class OutputRow:
    name: str
    run_id: str
    artifact_id: str | None
    artifact_uri: str | None
    provisioning_state: str


class Store:
    def __init__(self, path: Path) -> None:
        self.path = path
        if not path.exists():  # owner-only: templates can hold inline commands (SQLite copies the mode to -wal/-shm)
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        self._local = threading.local()
        self._write = threading.Lock()
        self._changed = threading.Condition()  # notified when a run's state or log changes
        self._version = 0
        with self._write:
            db = self._conn()
            db.executescript(SCHEMA)  # executescript manages its own transaction
            columns = {r["name"] for r in db.execute("PRAGMA table_info(runs)")}
            if "simulated" not in columns:  # older state.db
                db.execute("ALTER TABLE runs ADD COLUMN simulated INTEGER NOT NULL DEFAULT 1")
            if "why_simulated" not in columns:
                db.execute("ALTER TABLE runs ADD COLUMN why_simulated TEXT NOT NULL DEFAULT ''")
            if "sandbox" not in columns:
                db.execute("ALTER TABLE runs ADD COLUMN sandbox TEXT")

    # -- connections -------------------------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=True)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=30000")
            self._local.conn = conn
        return conn

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._write:
            db = self._conn()
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def _read(self, sql: str, args: tuple = ()) -> list[sqlite3.Row]:
        return self._conn().execute(sql, args).fetchall()

    def close_thread(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # -- change notification (long polls of the log) ---------------------------------------
    @property
    def version(self) -> int:
        with self._changed:
            return self._version

    def _bump(self) -> None:
        with self._changed:
            self._version += 1
            self._changed.notify_all()

    def wait_change(self, since: int, timeout: float) -> int:
        """Block until a run changes after ``since`` (a :attr:`version`) or ``timeout`` passes."""
        with self._changed:
            self._changed.wait_for(lambda: self._version != since, timeout=max(0.0, timeout))
            return self._version

    def integrity_ok(self) -> bool:
        return self._read("PRAGMA integrity_check")[0][0] == "ok"

    # -- recovery ----------------------------------------------------------------------------
    def recover(self) -> list[str]:
        """Runs left Running/Canceling by a service that died become Failed. Returns their ids."""
        now = time.time()
        with self._tx() as db:
            ids = [r["id"] for r in db.execute(
                "SELECT id FROM runs WHERE state IN (?, ?)", ACTIVE_RUN_STATES).fetchall()]
            for rid in ids:
                db.execute("UPDATE runs SET state='Failed', message=?, end_time=? WHERE id=?",
                           (INTERRUPTED, now, rid))
                seq = db.execute("SELECT COALESCE(MAX(seq), 0) FROM log_lines WHERE run_id=?", (rid,)).fetchone()[0]
                db.execute("INSERT INTO log_lines VALUES (?, ?, ?, ?)", (rid, seq + 1, now, f"ERROR: {INTERRUPTED}"))
            db.execute("UPDATE operations SET status='Failed', error_code='Interrupted', error_message=?, end_time=? "
                       "WHERE status='InProgress' AND kind IN ('run', 'cancel')", (INTERRUPTED, now))
            # a delete that was accepted finishes now: the template goes away as promised
            pending = db.execute("SELECT template_key FROM operations WHERE status='InProgress' AND kind='delete'")
            for r in pending.fetchall():
                self._delete_template_rows(db, r["template_key"])
            db.execute("UPDATE operations SET status='Succeeded', end_time=? WHERE status='InProgress'", (now,))
        return ids

    # -- templates ---------------------------------------------------------------------------
    def _template(self, row: sqlite3.Row | None) -> TemplateRow | None:
        if row is None:
            return None
        return TemplateRow(key=row["key"], sub=row["sub"], rg=row["rg"], name=row["name"], location=row["location"],
                           body=json.loads(row["body"]), provisioning_state=row["provisioning_state"],
                           provisioning_error=json.loads(row["provisioning_error"]) if row["provisioning_error"]
                           else None, ready_at=row["ready_at"], last_run=row["last_run"])

    def get_template(self, key: str) -> TemplateRow | None:
        rows = self._read("SELECT * FROM templates WHERE key=?", (key,))
        tpl = self._template(rows[0] if rows else None)
        if tpl is not None and tpl.provisioning_state == "Creating" and time.time() >= tpl.ready_at:
            return self._settle(tpl)
        return tpl

    def _settle(self, tpl: TemplateRow) -> TemplateRow:
        """Creating -> Succeeded, or Failed when the provisioning checks recorded an error."""
        err = tpl.provisioning_error
        state = "Failed" if err else "Succeeded"
        with self._tx() as db:
            db.execute("UPDATE templates SET provisioning_state=? WHERE key=? AND provisioning_state='Creating'",
                       (state, tpl.key))
            db.execute("UPDATE operations SET status=?, error_code=?, error_message=?, end_time=? "
                       "WHERE template_key=? AND kind='create' AND status='InProgress'",
                       (state, err.get("provisioningErrorCode") if err else None,
                        err.get("message") if err else None, time.time(), tpl.key))
        tpl.provisioning_state = state
        return tpl

    def finish_provisioning(self, key: str, delay_from_now: float, error: dict[str, Any] | None) -> None:
        """The provisioning checks of a Creating template are done: settle after ``delay_from_now``."""
        with self._tx() as db:
            db.execute("UPDATE templates SET ready_at=?, provisioning_error=? WHERE key=? AND "
                       "provisioning_state='Creating'",
                       (time.time() + delay_from_now, json.dumps(error) if error else None, key))

    def update_template(self, key: str, body: dict[str, Any]) -> OperationRow:
        """PATCH: the new body, and an update operation that has already succeeded."""
        now = time.time()
        op_id = str(uuid.uuid4())
        with self._tx() as db:
            db.execute("UPDATE templates SET body=? WHERE key=?", (json.dumps(body, sort_keys=True), key))
            db.execute("INSERT INTO operations VALUES (?, ?, 'update', 'Succeeded', NULL, NULL, ?, ?, NULL, NULL)",
                       (op_id, key, now, now))
        op = self.get_operation(op_id)
        assert op is not None
        return op

    def list_page(self, sub: str, rg: str | None, after: str | None, limit: int) -> tuple[list[TemplateRow], bool]:
        """One page of templates in key order after the cursor ``after`` (a key): a range scan of the
        primary key with LIMIT, so the last page costs what the first does. Returns (rows, more)."""
        prefix = f"{sub.lower()}/" + (f"{rg.lower()}/" if rg is not None else "")
        low = max(after or "", prefix)  # keys with the prefix sort after it ...
        high = prefix[:-1] + "0"  # ... and before this ('0' follows '/')
        rows = self._read("SELECT * FROM templates WHERE key > ? AND key < ? ORDER BY key LIMIT ?",
                          (low, high, limit + 1))
        out = []
        for r in rows[:limit]:
            tpl = self._template(r)
            assert tpl is not None
            if tpl.provisioning_state == "Creating" and time.time() >= tpl.ready_at:
                tpl = self._settle(tpl)
            out.append(tpl)
        return out, len(rows) > limit

    # -- resource groups ---------------------------------------------------------------------
    def get_group(self, sub: str, name: str) -> dict[str, Any] | None:
        rows = self._read("SELECT * FROM resource_groups WHERE key=?", (f"{sub.lower()}/{name.lower()}",))
        if not rows:
            return None
        r = rows[0]
        return {"sub": r["sub"], "name": r["name"], "location": r["location"],
                "tags": json.loads(r["tags"]) if r["tags"] else None}

    def put_group(self, sub: str, name: str, location: str, tags: dict[str, str] | None, *,
                  only_if_missing: bool = False) -> bool:
        """Create or update a resource group; True when it was created."""
        key = f"{sub.lower()}/{name.lower()}"
        with self._tx() as db:
            exists = db.execute("SELECT 1 FROM resource_groups WHERE key=?", (key,)).fetchone() is not None
            if exists and only_if_missing:
                return False
            if exists:
                db.execute("UPDATE resource_groups SET tags=? WHERE key=?", (json.dumps(tags) if tags else None, key))
            else:
                db.execute("INSERT INTO resource_groups VALUES (?, ?, ?, ?, ?, ?)",
                           (key, sub, name, location, json.dumps(tags) if tags else None, time.time()))
        return not exists

    def list_groups(self, sub: str) -> list[dict[str, Any]]:
        rows = self._read("SELECT * FROM resource_groups WHERE key > ? AND key < ? ORDER BY key",
                          (f"{sub.lower()}/", f"{sub.lower()}0"))
        return [{"sub": r["sub"], "name": r["name"], "location": r["location"],
                 "tags": json.loads(r["tags"]) if r["tags"] else None} for r in rows]

    def delete_group(self, sub: str, name: str) -> list[str]:
        """Remove an empty resource group; returns the keys of templates still in it (then nothing happens)."""
        prefix = f"{sub.lower()}/{name.lower()}/"
        with self._tx() as db:
            left = [r["key"] for r in db.execute("SELECT key FROM templates WHERE key > ? AND key < ?",
                                                 (prefix, prefix[:-1] + "0")).fetchall()]
            if not left:
                db.execute("DELETE FROM resource_groups WHERE key=?", (prefix[:-1],))
        return left

    # -- triggers ----------------------------------------------------------------------------
    def put_trigger(self, key: str, name: str, kind: str) -> tuple[bool, float]:
        with self._tx() as db:
            row = db.execute("SELECT created FROM triggers WHERE template_key=? AND name=?",
                             (key, name.lower())).fetchone()
            if row is not None:
                return False, float(row["created"])
            now = time.time()
            db.execute("INSERT INTO triggers VALUES (?, ?, ?, ?, ?)", (key, name.lower(), name, kind, now))
        return True, now

    def triggers(self, key: str) -> list[dict[str, Any]]:
        rows = self._read("SELECT * FROM triggers WHERE template_key=? ORDER BY name", (key,))
        return [{"name": r["display_name"], "kind": r["kind"], "created": r["created"]} for r in rows]

    def delete_trigger(self, key: str, name: str) -> bool:
        with self._tx() as db:
            return db.execute("DELETE FROM triggers WHERE template_key=? AND name=?", (key, name.lower())).rowcount > 0

    def record_operation(self, key: str, kind: str) -> OperationRow:
        """An operation that completed at once (trigger create/delete): clients still poll it."""
        now = time.time()
        op_id = str(uuid.uuid4())
        with self._tx() as db:
            db.execute("INSERT INTO operations VALUES (?, ?, ?, 'Succeeded', NULL, NULL, ?, ?, NULL, NULL)",
                       (op_id, key, kind, now, now))
        op = self.get_operation(op_id)
        assert op is not None
        return op

    def list_templates(self, sub: str, rg: str | None) -> list[TemplateRow]:
        if rg is None:
            rows = self._read("SELECT key FROM templates WHERE lower(sub)=? ORDER BY lower(rg), lower(name)",
                              (sub.lower(),))
        else:
            rows = self._read("SELECT key FROM templates WHERE lower(sub)=? AND lower(rg)=? ORDER BY lower(name)",
                              (sub.lower(), rg.lower()))
        out = [self.get_template(r["key"]) for r in rows]
        return [t for t in out if t is not None]

    def create_template(self, sub: str, rg: str, name: str, location: str, body: dict[str, Any],
                        delay: float | None) -> tuple[TemplateRow, OperationRow]:
        """A Creating template; ``delay`` None: provisioning checks run first (:meth:`finish_provisioning`)."""
        key = template_key(sub, rg, name)
        now = time.time()
        op_id = str(uuid.uuid4())
        with self._tx() as db:
            db.execute("INSERT INTO templates VALUES (?, ?, ?, ?, ?, ?, 'Creating', NULL, ?, ?, NULL)",
                       (key, sub, rg, name, location, json.dumps(body, sort_keys=True),
                        NOT_READY if delay is None else now + delay, now))
            db.execute("INSERT INTO operations VALUES (?, ?, 'create', 'InProgress', NULL, NULL, ?, NULL, NULL, NULL)",
                       (op_id, key, now))
        tpl = self.get_template(key)
        op = self.get_operation(op_id)
        assert tpl is not None and op is not None
        return tpl, op

    def _delete_template_rows(self, db: sqlite3.Connection, key: str) -> None:
        run_ids = [r["id"] for r in db.execute("SELECT id FROM runs WHERE template_key=?", (key,)).fetchall()]
        for rid in run_ids:
            db.execute("DELETE FROM log_lines WHERE run_id=?", (rid,))
        db.execute("DELETE FROM runs WHERE template_key=?", (key,))
        db.execute("DELETE FROM run_outputs WHERE template_key=?", (key,))
        db.execute("DELETE FROM triggers WHERE template_key=?", (key,))
        db.execute("DELETE FROM templates WHERE key=?", (key,))

    def begin_delete(self, key: str) -> OperationRow:
        now = time.time()
        op_id = str(uuid.uuid4())
        with self._tx() as db:
            db.execute("UPDATE templates SET provisioning_state='Deleting' WHERE key=?", (key,))
            db.execute("INSERT INTO operations VALUES (?, ?, 'delete', 'InProgress', NULL, NULL, ?, NULL, NULL, NULL)",
                       (op_id, key, now))
        op = self.get_operation(op_id)
        assert op is not None
        return op

    def finish_delete(self, key: str, op_id: str) -> None:
        with self._tx() as db:
            self._delete_template_rows(db, key)
            db.execute("UPDATE operations SET status='Succeeded', end_time=? WHERE id=?", (time.time(), op_id))

    # -- operations --------------------------------------------------------------------------
    def _op_row(self, op_id: str) -> OperationRow | None:
        rows = self._read("SELECT * FROM operations WHERE id=?", (op_id,))
        if not rows:
            return None
        r = rows[0]
        return OperationRow(id=r["id"], template_key=r["template_key"], kind=r["kind"], status=r["status"],
                            error_code=r["error_code"], error_message=r["error_message"], start=r["start"],
                            end_time=r["end_time"], run_id=r["run_id"])

    def get_operation(self, op_id: str) -> OperationRow | None:
        op = self._op_row(op_id)
        if op is not None and op.kind == "create" and op.status == "InProgress":
            self.get_template(op.template_key)  # settles provisioning when its time has come
            op = self._op_row(op_id)
        return op

    def find_operation(self, key: str, kind: str, request_id: str) -> OperationRow | None:
        rows = self._read("SELECT id FROM operations WHERE template_key=? AND kind=? AND request_id=?",
                          (key, kind, request_id))
        return self.get_operation(rows[0]["id"]) if rows else None

    def active_operation(self, key: str, kind: str) -> OperationRow | None:
        rows = self._read("SELECT id FROM operations WHERE template_key=? AND kind=? AND status='InProgress'",
                          (key, kind))
        return self.get_operation(rows[0]["id"]) if rows else None

    def finish_operations_for_run(self, run_id: str, status: str, code: str | None, message: str | None) -> None:
        with self._tx() as db:
            db.execute("UPDATE operations SET status=?, error_code=?, error_message=?, end_time=? "
                       "WHERE run_id=? AND kind='run' AND status='InProgress'",
                       (status, code, message, time.time(), run_id))
            db.execute("UPDATE operations SET status='Succeeded', end_time=? "
                       "WHERE run_id=? AND kind='cancel' AND status='InProgress'", (time.time(), run_id))

    # -- runs --------------------------------------------------------------------------------
    def start_run(self, key: str, request_id: str | None,
                  simulated: bool = True, why_simulated: str = "",
                  sandbox: str | None = None) -> tuple[RunRow, OperationRow] | None:
        """A new run in state Running/Queued, or None if one is already active. ``simulated``: the
        runner will not execute its steps (``why_simulated`` says why; lastRunStatus.aibtuiExecution and
        the log endpoint carry it); ``sandbox``: where a real run executes."""
        now = time.time()
        run_id = str(uuid.uuid4())
        op_id = str(uuid.uuid4())
        with self._tx() as db:
            busy = db.execute("SELECT 1 FROM runs WHERE template_key=? AND state IN (?, ?)",
                              (key, *ACTIVE_RUN_STATES)).fetchone()
            if busy:
                return None
            db.execute("INSERT INTO runs (id, template_key, state, sub_state, message, start, end_time, "
                       "cancel_requested, failed_step, simulated, why_simulated, sandbox) VALUES (?, ?, 'Running', "
                       "'Queued', ?, ?, NULL, 0, NULL, ?, ?, ?)",
                       (run_id, key, "Queued (simulated run)" if simulated else "Queued (local build)", now,
                        int(simulated), why_simulated if simulated else "", None if simulated else sandbox))
            db.execute("INSERT INTO operations VALUES (?, ?, 'run', 'InProgress', NULL, NULL, ?, NULL, ?, ?)",
                       (op_id, key, now, run_id, request_id))
            db.execute("UPDATE templates SET last_run=? WHERE key=?", (run_id, key))
        run, op = self.get_run(run_id), self.get_operation(op_id)
        assert run is not None and op is not None
        return run, op

    def get_run(self, run_id: str) -> RunRow | None:
        rows = self._read("SELECT * FROM runs WHERE id=?", (run_id,))
        if not rows:
            return None
        r = rows[0]
        return RunRow(id=r["id"], template_key=r["template_key"], state=r["state"], sub_state=r["sub_state"],
                      message=r["message"], start=r["start"], end_time=r["end_time"],
                      cancel_requested=bool(r["cancel_requested"]), failed_step=r["failed_step"],
                      simulated=bool(r["simulated"]), why_simulated=r["why_simulated"] or "",
                      sandbox=r["sandbox"])

    def active_run_count(self) -> int:
        return int(self._read("SELECT COUNT(*) FROM runs WHERE state IN (?, ?)", ACTIVE_RUN_STATES)[0][0])

    def set_run(self, run_id: str, *, state: str | None = None, sub_state: str | None = None,
                message: str | None = None, finished: bool = False, failed_step: str | None = None) -> None:
        sets, args = [], []
        for col, val in (("state", state), ("sub_state", sub_state), ("message", message),
                         ("failed_step", failed_step)):
            if val is not None:
                sets.append(f"{col}=?")
                args.append(val)
        if finished:
            sets.append("end_time=?")
            args.append(time.time())
        if not sets:
            return
        with self._tx() as db:
            db.execute(f"UPDATE runs SET {', '.join(sets)} WHERE id=?", (*args, run_id))
        self._bump()

    def request_cancel(self, key: str, request_id: str | None) -> OperationRow | None:
        """Mark the active run Canceling; None when nothing is running."""
        now = time.time()
        op_id = str(uuid.uuid4())
        with self._tx() as db:
            row = db.execute("SELECT id FROM runs WHERE template_key=? AND state IN (?, ?)",
                             (key, *ACTIVE_RUN_STATES)).fetchone()
            if row is None:
                return None
            db.execute("UPDATE runs SET cancel_requested=1, state='Canceling', message='Canceling: cancel requested' "
                       "WHERE id=?", (row["id"],))
            db.execute("INSERT INTO operations VALUES (?, ?, 'cancel', 'InProgress', NULL, NULL, ?, NULL, ?, ?)",
                       (op_id, key, now, row["id"], request_id))
        self._bump()
        return self.get_operation(op_id)

    def cancel_requested(self, run_id: str) -> bool:
        rows = self._read("SELECT cancel_requested FROM runs WHERE id=?", (run_id,))
        return bool(rows and rows[0][0])

    # -- logs --------------------------------------------------------------------------------
    def append_log(self, run_id: str, text: str) -> None:
        with self._tx() as db:
            seq = db.execute("SELECT COALESCE(MAX(seq), 0) FROM log_lines WHERE run_id=?", (run_id,)).fetchone()[0]
            db.execute("INSERT INTO log_lines VALUES (?, ?, ?, ?)", (run_id, seq + 1, time.time(), text))
        self._bump()

    def append_logs(self, run_id: str, texts: list[str]) -> None:
        """Several lines in one transaction (a step's output as it arrives)."""
        if not texts:
            return
        now = time.time()
        with self._tx() as db:
            seq = db.execute("SELECT COALESCE(MAX(seq), 0) FROM log_lines WHERE run_id=?", (run_id,)).fetchone()[0]
            db.executemany("INSERT INTO log_lines VALUES (?, ?, ?, ?)",
                           [(run_id, seq + i, now, t) for i, t in enumerate(texts, 1)])
        self._bump()

    def log_lines(self, run_id: str, after: int, limit: int = 5000) -> list[tuple[int, str]]:
        rows = self._read("SELECT seq, text FROM log_lines WHERE run_id=? AND seq>? ORDER BY seq LIMIT ?",
                          (run_id, after, limit))
        return [(r["seq"], r["text"]) for r in rows]

    # -- run outputs -------------------------------------------------------------------------
    def put_output(self, key: str, run_id: str, name: str, artifact_id: str | None, artifact_uri: str | None) -> None:
        with self._tx() as db:
            db.execute("INSERT OR REPLACE INTO run_outputs VALUES (?, ?, ?, ?, ?, 'Succeeded')",
                       (key, name, run_id, artifact_id, artifact_uri))

    def drop_outputs_of_run(self, run_id: str) -> int:
        with self._tx() as db:
            return db.execute("DELETE FROM run_outputs WHERE run_id=?", (run_id,)).rowcount

    def outputs(self, key: str) -> list[OutputRow]:
        rows = self._read("SELECT * FROM run_outputs WHERE template_key=? ORDER BY name", (key,))
        return [OutputRow(name=r["name"], run_id=r["run_id"], artifact_id=r["artifact_id"],
                          artifact_uri=r["artifact_uri"], provisioning_state=r["provisioning_state"]) for r in rows]
