-- The embedded event log: the same model as the PostgreSQL one (see Storage/Postgres/Sql/010-event-log.sql).
CREATE TABLE IF NOT EXISTS se_streams
(
    id                      INTEGER PRIMARY KEY,
    stream_key              TEXT    NOT NULL UNIQUE,
    namespace               TEXT    NOT NULL,
    workflow_exec_id        TEXT    NOT NULL,
    workflow_name           TEXT    NOT NULL,
    workflow_run_id         TEXT    NOT NULL,
    root_workflow_exec_id   TEXT    NOT NULL,
    parent_workflow_exec_id TEXT    NULL,
    head                    INTEGER NOT NULL DEFAULT 0,
    oldest                  INTEGER NOT NULL DEFAULT 1,
    retained_bytes          INTEGER NOT NULL DEFAULT 0,
    task_count              INTEGER NOT NULL DEFAULT 0,
    open_tasks              INTEGER NOT NULL DEFAULT 0,
    created_at              INTEGER NOT NULL, -- Unix milliseconds
    last_event_at           INTEGER NOT NULL, -- Unix milliseconds
    producers               BLOB    NULL,     -- the open tasks' publishers (see ProducerStates.cs)
    exec_status             INTEGER NOT NULL DEFAULT 0 -- see ExecutionStatus
);

CREATE TABLE IF NOT EXISTS se_tasks
(
    stream_id       INTEGER NOT NULL,
    task_no         INTEGER NOT NULL,
    namespace       TEXT    NOT NULL,
    task_id         TEXT    NOT NULL,
    topic           TEXT    NOT NULL,
    workflow_run_id TEXT    NOT NULL,
    metadata        BLOB    NULL,
    status          INTEGER NOT NULL,
    started_seq     INTEGER NOT NULL,
    terminal_seq    INTEGER NULL,
    activity_name   TEXT    NULL,
    activity_id     TEXT    NULL,
    producer_id     TEXT    NULL,
    terminal_pseq   INTEGER NULL,
    terminal_epoch  INTEGER NULL,
    kind            INTEGER NOT NULL DEFAULT 0, -- see TaskKind
    PRIMARY KEY (stream_id, task_no)
);

-- Files made by earlier versions get the new columns from SqliteSchema before this script runs.
DROP INDEX IF EXISTS se_tasks_task_id;
CREATE UNIQUE INDEX IF NOT EXISTS se_tasks_namespace_task_id ON se_tasks (namespace, task_id);
CREATE INDEX IF NOT EXISTS se_streams_workflow_name ON se_streams (namespace, workflow_name);
CREATE INDEX IF NOT EXISTS se_streams_root ON se_streams (namespace, root_workflow_exec_id);
CREATE INDEX IF NOT EXISTS se_streams_parent ON se_streams (namespace, parent_workflow_exec_id);

CREATE TABLE IF NOT EXISTS se_events
(
    stream_id INTEGER NOT NULL,
    seq       INTEGER NOT NULL,
    ts        INTEGER NOT NULL, -- nanoseconds since the Unix epoch
    task_no   INTEGER NOT NULL,
    kind      INTEGER NOT NULL, -- event type | payload encoding << 8
    body      BLOB    NOT NULL,
    PRIMARY KEY (stream_id, seq)
);

CREATE TABLE IF NOT EXISTS se_request_keys
(
    namespace    TEXT    NOT NULL,
    key          TEXT    NOT NULL,
    stream_id    INTEGER NOT NULL,
    request_hash BLOB    NOT NULL,
    first_seq    INTEGER NOT NULL,
    count        INTEGER NOT NULL,
    sequences    TEXT    NULL,     -- comma-separated, when not contiguous from first_seq
    created_at   INTEGER NOT NULL, -- Unix milliseconds
    PRIMARY KEY (namespace, key)
);

CREATE INDEX IF NOT EXISTS se_request_keys_created_at ON se_request_keys (created_at);
