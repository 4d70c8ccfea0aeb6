-- One pace for the whole bot, shared by every instance on this database: each lane (the bot-wide one, one per
-- channel) keeps the next instant a request may go out. Rows are few and hot; nothing else lives here.
CREATE TABLE pacing (
    key TEXT PRIMARY KEY,
    tat TIMESTAMPTZ NOT NULL
) WITH (fillfactor = 50);

-- A member's DM channel on a platform never changes: remembering it saves a request per message after a restart.
CREATE TABLE dm_channels (
    platform    TEXT NOT NULL CHECK (platform IN ('discord', 'slack', 'console')),
    user_id     TEXT NOT NULL,
    channel_id  TEXT NOT NULL,
    PRIMARY KEY (platform, user_id)
);

-- Set just before a delivery is sent and cleared when its outcome is recorded: a delivery claimed with it set
-- had a try whose outcome nobody knows (a timeout, a crash), and the worker looks for it before sending again.
ALTER TABLE deliveries ADD COLUMN sending_since TIMESTAMPTZ;

-- Each step of a review is done once on its own: the header, the summary and closing the thread.
ALTER TABLE review_threads
    ADD COLUMN header_message_id TEXT,
    ADD COLUMN summary_message_id TEXT,
    ADD COLUMN thread_closed_at TIMESTAMPTZ;
