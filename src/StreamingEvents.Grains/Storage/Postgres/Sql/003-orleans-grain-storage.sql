-- Grain state for Orleans' ADO.NET persistence provider (used for small states such as the stream PubSubStore),
-- written for this project. The version column is the ETag: a write succeeds only against the version it read.

CREATE TABLE IF NOT EXISTS orleansstorage
(
    grainidhash            integer      NOT NULL,
    grainidn0              bigint       NOT NULL,
    grainidn1              bigint       NOT NULL,
    graintypehash          integer      NOT NULL,
    graintypestring        varchar(512) NOT NULL,
    grainidextensionstring varchar(512) NULL,
    serviceid              varchar(150) NOT NULL,
    payloadbinary          bytea        NULL,
    modifiedon             timestamp    NOT NULL,
    version                integer      NULL
);

CREATE UNIQUE INDEX IF NOT EXISTS orleansstorage_grain
    ON orleansstorage (grainidhash, graintypehash, grainidn0, grainidn1, serviceid, graintypestring, coalesce(grainidextensionstring, ''));

-- Returns the new version on success; on a conflict it returns the caller's version (or NULL for a first write),
-- which Orleans reports as an InconsistentStateException.
CREATE OR REPLACE FUNCTION se_orleans_write_state(
    p_hash integer, p_n0 bigint, p_n1 bigint, p_type_hash integer, p_type varchar, p_extension varchar,
    p_service varchar, p_version integer, p_payload bytea)
RETURNS TABLE (newgrainstateversion integer)
LANGUAGE plpgsql AS
$$
DECLARE
    written integer;
BEGIN
    IF p_version IS NULL THEN
        INSERT INTO orleansstorage
            (grainidhash, grainidn0, grainidn1, graintypehash, graintypestring, grainidextensionstring, serviceid, payloadbinary, modifiedon, version)
        VALUES
            (p_hash, p_n0, p_n1, p_type_hash, p_type, p_extension, p_service, p_payload, now() AT TIME ZONE 'utc', 1)
        ON CONFLICT DO NOTHING;
        GET DIAGNOSTICS written = ROW_COUNT;
        RETURN QUERY SELECT CASE WHEN written > 0 THEN 1 END;
    ELSE
        UPDATE orleansstorage
           SET payloadbinary = p_payload, modifiedon = now() AT TIME ZONE 'utc', version = version + 1
         WHERE grainidhash = p_hash AND graintypehash = p_type_hash AND grainidn0 = p_n0 AND grainidn1 = p_n1
           AND serviceid = p_service AND graintypestring = p_type
           AND coalesce(grainidextensionstring, '') = coalesce(p_extension, '')
           AND version = p_version;
        GET DIAGNOSTICS written = ROW_COUNT;
        RETURN QUERY SELECT CASE WHEN written > 0 THEN p_version + 1 ELSE p_version END;
    END IF;
END
$$;

INSERT INTO orleansquery (querykey, querytext) VALUES
('WriteToStorageKey', '
    SELECT * FROM se_orleans_write_state(@GrainIdHash, @GrainIdN0, @GrainIdN1, @GrainTypeHash, @GrainTypeString,
                                         @GrainIdExtensionString, @ServiceId, @GrainStateVersion, @PayloadBinary);'),
('ReadFromStorageKey', '
    SELECT payloadbinary, now() AT TIME ZONE ''utc'', version
      FROM orleansstorage
     WHERE grainidhash = @GrainIdHash AND graintypehash = @GrainTypeHash AND grainidn0 = @GrainIdN0 AND grainidn1 = @GrainIdN1
       AND serviceid = @ServiceId AND graintypestring = @GrainTypeString
       AND coalesce(grainidextensionstring, '''') = coalesce(@GrainIdExtensionString, '''');'),
('ClearStorageKey', '
    UPDATE orleansstorage
       SET payloadbinary = NULL, version = version + 1
     WHERE grainidhash = @GrainIdHash AND graintypehash = @GrainTypeHash AND grainidn0 = @GrainIdN0 AND grainidn1 = @GrainIdN1
       AND serviceid = @ServiceId AND graintypestring = @GrainTypeString
       AND coalesce(grainidextensionstring, '''') = coalesce(@GrainIdExtensionString, '''')
       AND version = @GrainStateVersion
    RETURNING version AS newgrainstateversion;'),
('DeleteStorageKey', '
    DELETE FROM orleansstorage
     WHERE grainidhash = @GrainIdHash AND graintypehash = @GrainTypeHash AND grainidn0 = @GrainIdN0 AND grainidn1 = @GrainIdN1
       AND serviceid = @ServiceId AND graintypestring = @GrainTypeString
       AND coalesce(grainidextensionstring, '''') = coalesce(@GrainIdExtensionString, '''')
       AND version = @GrainStateVersion
    RETURNING version + 1 AS newgrainstateversion;')
ON CONFLICT (querykey) DO UPDATE SET querytext = EXCLUDED.querytext;
