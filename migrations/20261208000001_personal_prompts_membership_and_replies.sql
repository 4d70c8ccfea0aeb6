-- Personal prompts (the monthly nudge, its reminder, the deep dive) are owed once per member and period, however
-- many circles the member is in. Rows planned from now on say so with per_member and are kept single by their own
-- UNIQUE key; rows planned before keep their meaning (one per circle) under deliveries_natural_key. circle_id of a
-- per-member row names the circle whose schedule sent it (its platform, its organisers), not a scope.
ALTER TABLE deliveries ADD COLUMN per_member BOOLEAN NOT NULL DEFAULT false;
CREATE UNIQUE INDEX deliveries_member_period_key ON deliveries (kind, member_id, period) WHERE per_member;
-- The planner asks, per member, whether a personal prompt of the period was already planned (under either key):
-- an index led by the member answers that with one probe. It serves every lookup by member the old one did.
CREATE INDEX deliveries_member_kind_period_idx ON deliveries (member_id, kind, period);
DROP INDEX deliveries_member_idx;

-- The bot removed from a server (Discord GUILD_DELETE without `unavailable`): its circles get no deliveries until
-- the bot is added back. NULL: the bot is in the server.
ALTER TABLE servers ADD COLUMN bot_removed_at TIMESTAMPTZ;

-- What last went wrong with a review's opening or closing on the platform, so organisers can be told how to fix it
-- and /review start can try again. NULL once the step succeeds.
ALTER TABLE review_threads ADD COLUMN problem TEXT;
ALTER TABLE review_threads ADD COLUMN problem_at TIMESTAMPTZ;

-- A DM whose destination the member has to choose (which circle; append, replace or leave it). The text waits
-- here because it cannot ride in a button's id; a choice uses it and removes it.
CREATE TABLE pending_replies (
    id         BIGSERIAL PRIMARY KEY,
    -- Whose it is: any member record of the user who wrote it (a choice may land on another server's record).
    member_id  BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL CHECK (kind IN ('checkin', 'done')),
    text       TEXT NOT NULL CHECK (length(text) BETWEEN 1 AND 20000),
    -- The check-in it is about, once known.
    circle_id  BIGINT REFERENCES circles (id) ON DELETE CASCADE,
    period     TEXT,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX pending_replies_member_idx ON pending_replies (member_id);

-- Edits to the bot's own posts that quoted a member who deleted their data: the new words (neutral text as JSON)
-- are worked out before the member's rows go, so these rows name no member. The worker applies them like
-- deliveries: claimed with a lease, retried with a backoff, never deleted.
CREATE TABLE redactions (
    id              BIGSERIAL PRIMARY KEY,
    server_id       BIGINT NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
    channel_id      TEXT NOT NULL,
    message_id      TEXT NOT NULL,
    text            JSONB NOT NULL,
    -- The post's new images, in order (a redacted summary's heatmap); none removes the old ones.
    attachment_names TEXT[] NOT NULL DEFAULT '{}',
    attachments     BYTEA[] NOT NULL DEFAULT '{}',
    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    claimed_by      TEXT,
    claimed_until   TIMESTAMPTZ,
    done_at         TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX redactions_pending_idx ON redactions (next_attempt_at) WHERE status = 'pending';
