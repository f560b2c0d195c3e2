-- Lifecycles: a task is a custom task (0), the execution's own lifecycle (1, WORKFLOW_EXECUTION_*) or an activity's
-- (2, ACTIVITY_TASK_*); the stream row keeps where the execution is (0 none published, 1 running, 2 completed, 3 failed,
-- 4 canceled, 5 timed out), written in the statement of the event that moved it.
ALTER TABLE se_tasks ADD COLUMN IF NOT EXISTS kind smallint NOT NULL DEFAULT 0;
ALTER TABLE se_streams ADD COLUMN IF NOT EXISTS exec_status smallint NOT NULL DEFAULT 0;
