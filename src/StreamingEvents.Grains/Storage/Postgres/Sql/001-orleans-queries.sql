-- Orleans' ADO.NET providers read their SQL from this table at start. Rows are upserted by the scripts that follow,
-- so re-running the schema updates query texts in place.
CREATE TABLE IF NOT EXISTS orleansquery
(
    querykey  varchar(64)   NOT NULL PRIMARY KEY,
    querytext varchar(8000) NOT NULL
);
