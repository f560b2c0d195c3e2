-- Discovery order: the transaction that inserted each stream row. Identity values are taken in one order and committed
-- in another, so a listing by id can step past a row that commits after a higher one was listed; rows of transactions
-- older than every running one are final, and listing those by (created_xid, id) never skips one.
ALTER TABLE se_streams ADD COLUMN IF NOT EXISTS created_xid xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE INDEX IF NOT EXISTS se_streams_discovery ON se_streams (namespace, created_xid, id);
