-- A circle's schedules: local 5-field cron text evaluated in the member's zone (or the circle's, for
-- circle-wide kinds). Rows exist only where an organiser overrode the default of config/default.toml.
CREATE TABLE circle_recurrences (
    circle_id  BIGINT NOT NULL REFERENCES circles (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    cron       TEXT NOT NULL,
    zone       TEXT,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (circle_id, kind)
);

-- The outbox. The natural key (kind, circle, member, local period) is what makes a delivery single: a
-- planner that runs twice, two instances, or a clock change all collide on it. Circle-wide deliveries have
-- no member, and NULLS NOT DISTINCT keeps them single too.
CREATE TABLE deliveries (
    id              BIGSERIAL PRIMARY KEY,
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
    CONSTRAINT deliveries_natural_key UNIQUE NULLS NOT DISTINCT (kind, circle_id, member_id, period)
);
-- The worker's claim scans only what is still to send, oldest due first.
CREATE INDEX deliveries_pending_idx ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_member_idx ON deliveries (member_id);
CREATE INDEX deliveries_circle_idx ON deliveries (circle_id, kind, period);

-- How far the planner has looked, so a restart knows what it missed.
CREATE TABLE planner_state (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    planned_until TIMESTAMPTZ NOT NULL
);
