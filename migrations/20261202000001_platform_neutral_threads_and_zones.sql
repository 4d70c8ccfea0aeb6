-- Platforms identify a message by channel and id (Slack's `ts` is unique only within its channel): the bot's review
-- posts and the feedback replies are unique per review thread, not across the whole platform.
ALTER TABLE review_posts DROP CONSTRAINT review_posts_message_id_key;
ALTER TABLE review_posts ADD CONSTRAINT review_posts_thread_message_key UNIQUE (review_thread_id, message_id);
ALTER TABLE peer_feedback DROP CONSTRAINT peer_feedback_message_id_key;
ALTER TABLE peer_feedback ADD CONSTRAINT peer_feedback_thread_message_key UNIQUE (review_thread_id, message_id);

-- A thread is a channel plus, where the platform needs it, the root message it hangs from (Slack's thread_ts).
ALTER TABLE review_threads ADD COLUMN thread_root_id TEXT;
-- Messages in a thread find their review by channel.
CREATE INDEX review_threads_channel_idx ON review_threads (thread_channel_id);

-- The one rule for a member's time zone: their own if they chose one, else the zone of the first circle they
-- joined. NULL only for a member in no circle (the caller's default applies). Every query that needs a member's
-- zone reads it here.
CREATE VIEW member_zones AS
SELECT m.id AS member_id,
       COALESCE(m.zone, (SELECT c.zone FROM memberships ms JOIN circles c ON c.id = ms.circle_id
                         WHERE ms.member_id = m.id ORDER BY ms.joined_at, c.id LIMIT 1)) AS zone
FROM members m;
