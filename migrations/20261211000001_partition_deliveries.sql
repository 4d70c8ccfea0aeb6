-- The outbox, partitioned by the year of its period: every period key starts with its year ('2027', '2027-03',
-- '2027-Q1'), so a range of text from '2027' to '2028' holds exactly one year's deliveries. The natural keys keep
-- their meaning (each includes the period, so each is unique within a partition and so across them), old years are
-- dropped whole instead of deleted row by row, and each year's table and indexes stay the size of a year.
-- Rows whose year has no partition yet land in the default partition and are never dropped.

ALTER TABLE deliveries RENAME TO deliveries_unpartitioned;
ALTER TABLE deliveries_unpartitioned RENAME CONSTRAINT deliveries_natural_key TO deliveries_unpartitioned_natural_key;
ALTER TABLE deliveries_unpartitioned RENAME CONSTRAINT deliveries_status_check TO deliveries_unpartitioned_status_check;
ALTER TABLE deliveries_unpartitioned RENAME CONSTRAINT deliveries_circle_id_fkey TO deliveries_unpartitioned_circle_id_fkey;
ALTER TABLE deliveries_unpartitioned RENAME CONSTRAINT deliveries_member_id_fkey TO deliveries_unpartitioned_member_id_fkey;
ALTER INDEX deliveries_pkey RENAME TO deliveries_unpartitioned_pkey;
ALTER INDEX deliveries_pending_idx RENAME TO deliveries_unpartitioned_pending_idx;
ALTER INDEX deliveries_circle_idx RENAME TO deliveries_unpartitioned_circle_idx;
ALTER INDEX deliveries_member_kind_period_idx RENAME TO deliveries_unpartitioned_member_kind_period_idx;
ALTER INDEX deliveries_member_period_key RENAME TO deliveries_unpartitioned_member_period_key;

CREATE TABLE deliveries (
    id              BIGINT NOT NULL DEFAULT nextval('deliveries_id_seq'),
    kind            TEXT NOT NULL,
    circle_id       BIGINT NOT NULL REFERENCES circles (id) ON DELETE CASCADE,
    member_id       BIGINT REFERENCES members (id) ON DELETE CASCADE,
    period          TEXT NOT NULL,
    due_at          TIMESTAMPTZ NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed', 'skipped')),
    skip_reason     TEXT,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    claimed_by      TEXT,
    claimed_until   TIMESTAMPTZ,
    sent_at         TIMESTAMPTZ,
    channel_id      TEXT,
    message_id      TEXT,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    sending_since   TIMESTAMPTZ,
    per_member      BOOLEAN NOT NULL DEFAULT false,
    PRIMARY KEY (id, period),
    CONSTRAINT deliveries_natural_key UNIQUE NULLS NOT DISTINCT (kind, circle_id, member_id, period)
) PARTITION BY RANGE (period);
ALTER SEQUENCE deliveries_id_seq OWNED BY deliveries.id;

CREATE INDEX deliveries_pending_idx ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_circle_idx ON deliveries (circle_id, kind, period);
CREATE INDEX deliveries_member_kind_period_idx ON deliveries (member_id, kind, period);
CREATE UNIQUE INDEX deliveries_member_period_key ON deliveries (kind, member_id, period) WHERE per_member;

-- Makes the year's partition if it is missing. Room is left in each page (fillfactor) so the claim's update of
-- claimed_by/claimed_until, which touches no indexed column, stays a HOT update; autovacuum runs at a fraction of
-- the default threshold, since every send leaves a dead row. Returns false when the default partition already
-- holds rows of that year (they stay there, correct, and the year simply has no partition of its own).
CREATE FUNCTION career_circle_ensure_delivery_partition(year INTEGER) RETURNS BOOLEAN
LANGUAGE plpgsql AS $$
DECLARE
    name TEXT := format('deliveries_y%s', year);
BEGIN
    IF to_regclass(name) IS NOT NULL THEN
        RETURN true;
    END IF;
    IF EXISTS (SELECT 1 FROM deliveries_default WHERE period >= year::text AND period < (year + 1)::text) THEN
        RETURN false;
    END IF;
    EXECUTE format(
        'CREATE TABLE %I PARTITION OF deliveries FOR VALUES FROM (%L) TO (%L)
         WITH (fillfactor = 80, autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02)',
        name, year::text, (year + 1)::text);
    RETURN true;
END;
$$;

-- Drops the partitions of years that ended before `before` (a year, exclusive): retention. Returns the tables
-- dropped. The caller sets a lock_timeout: dropping waits for the parent's lock, which in-flight claims hold
-- for milliseconds.
CREATE FUNCTION career_circle_drop_delivery_partitions(before INTEGER) RETURNS SETOF TEXT
LANGUAGE plpgsql AS $$
DECLARE
    part RECORD;
BEGIN
    FOR part IN
        SELECT c.relname, substring(c.relname FROM '^deliveries_y([0-9]{4})$')::int AS year
        FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'deliveries'::regclass AND c.relname ~ '^deliveries_y[0-9]{4}$'
    LOOP
        IF part.year < before THEN
            EXECUTE format('DROP TABLE %I', part.relname);
            RETURN NEXT part.relname;
        END IF;
    END LOOP;
END;
$$;

CREATE TABLE deliveries_default PARTITION OF deliveries DEFAULT
    WITH (fillfactor = 80, autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02);

-- A partition for every year with deliveries, and for last, this and next year.
DO $$
DECLARE
    y INTEGER;
BEGIN
    FOR y IN
        SELECT DISTINCT substring(period FROM 1 FOR 4)::int FROM deliveries_unpartitioned
        WHERE period ~ '^[0-9]{4}'
        UNION
        SELECT extract(year FROM now())::int + d FROM generate_series(-1, 1) d
    LOOP
        PERFORM career_circle_ensure_delivery_partition(y);
    END LOOP;
END;
$$;

INSERT INTO deliveries SELECT
    id, kind, circle_id, member_id, period, due_at, status, skip_reason, attempts, last_error, next_attempt_at,
    claimed_by, claimed_until, sent_at, channel_id, message_id, created_at, sending_since, per_member
FROM deliveries_unpartitioned;
DROP TABLE deliveries_unpartitioned;
