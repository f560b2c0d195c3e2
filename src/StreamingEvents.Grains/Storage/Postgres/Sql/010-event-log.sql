-- The execution streams. One row per workflow execution: its head (the last assigned broker_sequence) and retention.
-- The row is never deleted, so a number is never reused even after every event has expired.
CREATE TABLE IF NOT EXISTS se_streams
(
    id                      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    stream_key              text        NOT NULL UNIQUE,
    namespace               text        NOT NULL,
    workflow_exec_id        text        NOT NULL,
    workflow_name           text        NOT NULL,
    workflow_run_id         text        NOT NULL,
    root_workflow_exec_id   text        NOT NULL,
    parent_workflow_exec_id text        NULL,
    head                    bigint      NOT NULL DEFAULT 0,
    oldest                  bigint      NOT NULL DEFAULT 1,
    retained_bytes          bigint      NOT NULL DEFAULT 0,
    task_count              integer     NOT NULL DEFAULT 0,
    open_tasks              integer     NOT NULL DEFAULT 0,
    created_at              timestamptz NOT NULL DEFAULT now(),
    last_event_at           timestamptz NOT NULL DEFAULT now()
) WITH (fillfactor = 80); -- room for HOT updates of the head on every append

-- Tasks: constant facts stored once, and the status that makes the terminal event exactly-once.
CREATE TABLE IF NOT EXISTS se_tasks
(
    stream_id       bigint   NOT NULL REFERENCES se_streams (id),
    task_no         integer  NOT NULL,
    task_id         text     NOT NULL,
    topic           text     NOT NULL,
    workflow_run_id text     NOT NULL,
    metadata        bytea    NULL,
    status          smallint NOT NULL,
    started_seq     bigint   NOT NULL,
    terminal_seq    bigint   NULL,
    activity_name   text     NULL,
    activity_id     text     NULL,
    PRIMARY KEY (stream_id, task_no)
);

-- Finding executions for wildcard subscriptions and listings. Only columns that never change are indexed, so the
-- per-append update of a stream's head stays a HOT update.
CREATE INDEX IF NOT EXISTS se_streams_workflow_name ON se_streams (namespace, workflow_name);
CREATE INDEX IF NOT EXISTS se_streams_root ON se_streams (namespace, root_workflow_exec_id);
CREATE INDEX IF NOT EXISTS se_streams_parent ON se_streams (namespace, parent_workflow_exec_id);

-- Events, append-only: one narrow row per event; the envelope is rendered from the stream and task rows on read.
CREATE TABLE IF NOT EXISTS se_events
(
    stream_id bigint   NOT NULL,
    seq       bigint   NOT NULL,
    ts        bigint   NOT NULL, -- nanoseconds since the Unix epoch
    task_no   integer  NOT NULL,
    kind      smallint NOT NULL, -- event type | payload encoding << 8
    body      bytea    NOT NULL,
    PRIMARY KEY (stream_id, seq)
);
