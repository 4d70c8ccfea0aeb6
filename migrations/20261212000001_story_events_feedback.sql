-- Narrative and real feedback: wins linked to the spec part they serve, check-ins after major events, a landing plan
-- after a job change, feedback the member acts on, and feedback sent in private (anonymously where the circle
-- allows). Every new row hangs off a member, so deleting a member cascades to all of it.

-- The milestone or skill a win serves, in the spec's words at the time it was linked (a later spec edit does not
-- orphan it: the story groups by these words).
ALTER TABLE wins
    ADD COLUMN serves_kind TEXT CHECK (serves_kind IN ('milestone', 'skill')),
    ADD COLUMN serves      TEXT CHECK (length(serves) BETWEEN 1 AND 500),
    ADD CONSTRAINT wins_serves_both CHECK ((serves_kind IS NULL) = (serves IS NULL));

-- A short retrospective after a major event, beside the quarterly check-ins (which are per circle and quarter: an
-- event is the member's, whenever it happens). happened_on is the member's local date of writing it.
CREATE TABLE event_checkins (
    id          BIGSERIAL PRIMARY KEY,
    member_id   BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('promotion', 'job_change', 'setback', 'other')),
    happened    TEXT NOT NULL CHECK (length(happened) BETWEEN 1 AND 4000),
    learned     TEXT CHECK (length(learned) <= 4000),
    spec_change TEXT CHECK (length(spec_change) <= 4000),
    happened_on DATE NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX event_checkins_member_idx ON event_checkins (member_id, created_at);

-- A 30/60/90-day landing plan in a new role: the planner asks at day 30, 60 and 90 (09:00 the member's time) for
-- that phase's outcome. One plan per member and start date, whichever route (event check-in, taken offer) started it.
CREATE TABLE landing_plans (
    id         BIGSERIAL PRIMARY KEY,
    member_id  BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    started_on DATE NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    UNIQUE (member_id, started_on)
);
CREATE INDEX landing_plans_started_idx ON landing_plans (started_on);

CREATE TABLE landing_outcomes (
    plan_id     BIGINT NOT NULL REFERENCES landing_plans (id) ON DELETE CASCADE,
    day         INTEGER NOT NULL CHECK (day IN (30, 60, 90)),
    outcome     TEXT NOT NULL CHECK (length(outcome) BETWEEN 1 AND 4000),
    answered_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (plan_id, day)
);

-- A story shared into the circle's review thread: replies to that post are feedback for its author.
CREATE TABLE story_shares (
    review_thread_id BIGINT NOT NULL REFERENCES review_threads (id) ON DELETE CASCADE,
    member_id        BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    period           TEXT NOT NULL,
    message_id       TEXT NOT NULL UNIQUE,
    shared_at        TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (review_thread_id, member_id, period)
);

-- A reader's reply to another reader's feedback in the thread: feedback for the same member that the reader says
-- pulls the other way (the "contradicting by a reader" of a pair the member then tags).
ALTER TABLE peer_feedback ADD COLUMN answers_id BIGINT REFERENCES peer_feedback (id) ON DELETE SET NULL;

-- Whether readers may send private feedback without their name. Off unless an organiser allows it.
ALTER TABLE circles ADD COLUMN anonymous_feedback BOOLEAN NOT NULL DEFAULT false;

-- Feedback sent by DM to the bot rather than in a review thread. An anonymous author is kept (so the author's own
-- export shows what they wrote, and deleting them removes it) but never shown to anyone else.
CREATE TABLE private_feedback (
    id         BIGSERIAL PRIMARY KEY,
    author_id  BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    subject_id BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    circle_id  BIGINT NOT NULL REFERENCES circles (id) ON DELETE CASCADE,
    anonymous  BOOLEAN NOT NULL,
    text       TEXT NOT NULL CHECK (length(text) BETWEEN 1 AND 4000),
    created_at TIMESTAMPTZ NOT NULL,
    CHECK (author_id <> subject_id)
);
CREATE INDEX private_feedback_subject_idx ON private_feedback (subject_id, created_at);
CREATE INDEX private_feedback_author_idx ON private_feedback (author_id);

-- What the member decided about a piece of feedback. Exactly one of the two sources; contradicts names another piece
-- the member says pulls the other way. until_period: the quarter an experiment runs to, followed up then.
CREATE TABLE feedback_marks (
    member_id           BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    peer_feedback_id    BIGINT REFERENCES peer_feedback (id) ON DELETE CASCADE,
    private_feedback_id BIGINT REFERENCES private_feedback (id) ON DELETE CASCADE,
    decision            TEXT NOT NULL CHECK (decision IN ('adopt', 'experiment', 'set_aside')),
    until_period        TEXT,
    reason              TEXT CHECK (length(reason) <= 1000),
    part                TEXT CHECK (part IN ('vision', 'milestones', 'skills', 'metrics', 'tradeoffs')),
    contradicts_peer    BIGINT REFERENCES peer_feedback (id) ON DELETE SET NULL,
    contradicts_private BIGINT REFERENCES private_feedback (id) ON DELETE SET NULL,
    marked_at           TIMESTAMPTZ NOT NULL,
    CHECK (num_nonnulls(peer_feedback_id, private_feedback_id) = 1),
    CHECK (num_nonnulls(contradicts_peer, contradicts_private) <= 1),
    CHECK ((decision = 'experiment') = (until_period IS NOT NULL))
);
CREATE UNIQUE INDEX feedback_marks_peer_key ON feedback_marks (peer_feedback_id) WHERE peer_feedback_id IS NOT NULL;
CREATE UNIQUE INDEX feedback_marks_private_key ON feedback_marks (private_feedback_id)
    WHERE private_feedback_id IS NOT NULL;
CREATE INDEX feedback_marks_member_idx ON feedback_marks (member_id);
