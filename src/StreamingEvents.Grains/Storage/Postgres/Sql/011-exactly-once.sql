-- Exactly-once publishing. Idempotent: applies to a new database and to one made by earlier versions.

-- The publishers of a stream's open tasks (epoch, last publish sequence and its number), rewritten with the head in the
-- same statement as the events; see ProducerStates.cs for the encoding.
ALTER TABLE se_streams ADD COLUMN IF NOT EXISTS producers bytea NULL;

-- Task ids are unique per namespace (tenant), not globally: one tenant must not learn another's ids.
ALTER TABLE se_tasks ADD COLUMN IF NOT EXISTS namespace text NULL;
UPDATE se_tasks t SET namespace = s.namespace FROM se_streams s WHERE t.namespace IS NULL AND s.id = t.stream_id;
ALTER TABLE se_tasks ALTER COLUMN namespace SET NOT NULL;
DROP INDEX IF EXISTS se_tasks_task_id;
CREATE UNIQUE INDEX IF NOT EXISTS se_tasks_namespace_task_id ON se_tasks (namespace, task_id);

-- The start's producer id (a repeated start must carry it) and, for a terminal event its publisher numbered, its publish
-- sequence and producer epoch (the same terminal sent again answers its receipt).
ALTER TABLE se_tasks ADD COLUMN IF NOT EXISTS producer_id text NULL;
ALTER TABLE se_tasks ADD COLUMN IF NOT EXISTS terminal_pseq bigint NULL;
ALTER TABLE se_tasks ADD COLUMN IF NOT EXISTS terminal_epoch integer NULL;

-- Idempotency keys (HTTP Idempotency-Key), stored in the transaction of the events they published and kept for a day
-- or more (StreamingEvents:IdempotencyKeyRetention).
CREATE TABLE IF NOT EXISTS se_request_keys
(
    namespace    text        NOT NULL,
    key          text        NOT NULL,
    stream_id    bigint      NOT NULL,
    request_hash bytea       NOT NULL,
    first_seq    bigint      NOT NULL,
    count        integer     NOT NULL,
    sequences    bigint[]    NULL,
    created_at   timestamptz NOT NULL,
    PRIMARY KEY (namespace, key)
);

CREATE INDEX IF NOT EXISTS se_request_keys_created_at ON se_request_keys (created_at);
