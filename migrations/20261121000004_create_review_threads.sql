-- One review thread per circle and quarter, whatever number of workers race to open it.
CREATE TABLE review_threads (
    id                 BIGSERIAL PRIMARY KEY,
    circle_id          BIGINT NOT NULL REFERENCES circles (id) ON DELETE CASCADE,
    period             TEXT NOT NULL,
    thread_channel_id  TEXT,
    opened_at          TIMESTAMPTZ NOT NULL,
    closes_at          TIMESTAMPTZ NOT NULL,
    closed_at          TIMESTAMPTZ,
    UNIQUE (circle_id, period)
);

-- The bot's post of each member's check-in in the thread: replies to it are feedback for that member.
CREATE TABLE review_posts (
    review_thread_id BIGINT NOT NULL REFERENCES review_threads (id) ON DELETE CASCADE,
    member_id        BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    message_id       TEXT NOT NULL,
    PRIMARY KEY (review_thread_id, member_id),
    UNIQUE (message_id)
);

CREATE TABLE review_assignments (
    review_thread_id BIGINT NOT NULL REFERENCES review_threads (id) ON DELETE CASCADE,
    reviewer_id      BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    reviewee_id      BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    PRIMARY KEY (review_thread_id, reviewer_id, reviewee_id),
    CHECK (reviewer_id <> reviewee_id)
);

CREATE TABLE peer_feedback (
    id               BIGSERIAL PRIMARY KEY,
    review_thread_id BIGINT NOT NULL REFERENCES review_threads (id) ON DELETE CASCADE,
    author_id        BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    subject_id       BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    message_id       TEXT NOT NULL UNIQUE,
    text             TEXT NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX peer_feedback_subject_idx ON peer_feedback (subject_id, review_thread_id);
