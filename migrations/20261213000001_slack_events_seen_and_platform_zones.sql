-- Slack may hand one event to any of an app's sockets and hand it again (`retry_attempt`): every instance records
-- what it handles here, and only the first to record a key handles it. Rows older than a day are pruned: Slack
-- stops redelivering long before that.
CREATE TABLE events_seen (
    platform TEXT NOT NULL,
    event_key TEXT NOT NULL,
    seen_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (platform, event_key)
);
CREATE INDEX events_seen_seen_at ON events_seen (seen_at);

-- A member's zone may come from their platform profile (Slack's `tz`), kept current as it changes there; a zone the
-- member chose themselves (`/me timezone`) is never overwritten by it.
ALTER TABLE members ADD COLUMN zone_from_platform BOOLEAN NOT NULL DEFAULT false;
