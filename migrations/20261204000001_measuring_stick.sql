-- The spec as a measuring stick: an offer ledger with hindsight, a quarterly scorecard, milestones on track and a
-- portfolio of bets. Every new row hangs off a member (directly or through an evaluation or metric), so deleting a
-- member cascades to all of it.

-- The offer ledger. spec_version: the version in force when the offer was scored (NULL: no spec yet).
-- earlier_reading: the same offer read against the spec of 14 days before, kept when a non-negotiable or the vision
-- changed in between. decided_on is the member's local date of the decision: the 6- and 12-month questions count
-- from it.
ALTER TABLE opportunity_evaluations
    ADD COLUMN spec_version    INTEGER,
    ADD COLUMN earlier_reading JSONB,
    ADD COLUMN bet             TEXT CHECK (bet IN ('core', 'big_swing')),
    ADD COLUMN decision        TEXT CHECK (decision IN ('taken', 'declined')),
    ADD COLUMN decided_at      TIMESTAMPTZ,
    ADD COLUMN decided_on      DATE,
    ADD CONSTRAINT opportunity_evaluations_decided CHECK ((decision IS NULL) = (decided_on IS NULL));
-- The planner looks for taken offers whose 6- or 12-month mark has come.
CREATE INDEX opportunity_evaluations_taken_idx ON opportunity_evaluations (decided_on) WHERE decision = 'taken';

-- What a taken offer turned out to be, 6 and 12 months on, on the criteria it was scored for.
CREATE TABLE opportunity_hindsight (
    evaluation_id BIGINT NOT NULL REFERENCES opportunity_evaluations (id) ON DELETE CASCADE,
    months        INTEGER NOT NULL CHECK (months IN (6, 12)),
    learning      SMALLINT NOT NULL CHECK (learning BETWEEN 1 AND 5),
    impact        SMALLINT NOT NULL CHECK (impact BETWEEN 1 AND 5),
    compensation  SMALLINT NOT NULL CHECK (compensation BETWEEN 1 AND 5),
    team          SMALLINT NOT NULL CHECK (team BETWEEN 1 AND 5),
    note          TEXT CHECK (length(note) <= 1000),
    answered_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (evaluation_id, months)
);

-- A second opinion: the evaluation posted to a circle's home channel; replies to that post are the circle's
-- opinions on it.
CREATE TABLE opportunity_shares (
    evaluation_id     BIGINT NOT NULL REFERENCES opportunity_evaluations (id) ON DELETE CASCADE,
    circle_id         BIGINT NOT NULL REFERENCES circles (id) ON DELETE CASCADE,
    channel_id        TEXT NOT NULL,
    message_id        TEXT NOT NULL,
    with_compensation BOOLEAN NOT NULL,
    shared_at         TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (evaluation_id, circle_id),
    UNIQUE (channel_id, message_id)
);

CREATE TABLE opportunity_opinions (
    id            BIGSERIAL PRIMARY KEY,
    evaluation_id BIGINT NOT NULL REFERENCES opportunity_evaluations (id) ON DELETE CASCADE,
    author_id     BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    channel_id    TEXT NOT NULL,
    message_id    TEXT NOT NULL,
    text          TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    UNIQUE (channel_id, message_id)
);
CREATE INDEX opportunity_opinions_evaluation_idx ON opportunity_opinions (evaluation_id);
CREATE INDEX opportunity_opinions_author_idx ON opportunity_opinions (author_id);

-- The scorecard: the spec's metrics as named, typed measures, and their value each quarter. A removed metric keeps
-- its history (removed_at) and frees its name.
CREATE TABLE spec_metrics (
    id         BIGSERIAL PRIMARY KEY,
    member_id  BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    name       TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 40),
    value_type TEXT NOT NULL CHECK (value_type IN ('number', 'count', 'yes_no', 'scale')),
    kind       TEXT NOT NULL CHECK (kind IN ('leading', 'lagging', 'learning', 'impact')),
    target     DOUBLE PRECISION,
    private    BOOLEAN NOT NULL DEFAULT false,
    created_at TIMESTAMPTZ NOT NULL,
    removed_at TIMESTAMPTZ
);
CREATE UNIQUE INDEX spec_metrics_member_name_key ON spec_metrics (member_id, lower(name)) WHERE removed_at IS NULL;
CREATE INDEX spec_metrics_member_idx ON spec_metrics (member_id);

CREATE TABLE metric_values (
    metric_id   BIGINT NOT NULL REFERENCES spec_metrics (id) ON DELETE CASCADE,
    period      TEXT NOT NULL,
    value       DOUBLE PRECISION NOT NULL,
    recorded_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (metric_id, period)
);

-- Milestones on track: each horizon's status at a check-in, with the milestone's words at the time.
CREATE TABLE milestone_checks (
    member_id   BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    horizon     TEXT NOT NULL CHECK (horizon IN ('1y', '3y', '5y')),
    period      TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('on_track', 'at_risk', 'done')),
    milestone   TEXT NOT NULL,
    recorded_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (member_id, horizon, period)
);

-- A portfolio of bets: commitments, wins and offers may be core or a big swing. A big swing that was killed is
-- closed with a post-mortem and a 'killed' mark in its last period, which counts as kept.
ALTER TABLE commitments
    ADD COLUMN bet        TEXT CHECK (bet IN ('core', 'big_swing')),
    ADD COLUMN postmortem TEXT CHECK (length(postmortem) BETWEEN 1 AND 1000);
ALTER TABLE wins ADD COLUMN bet TEXT CHECK (bet IN ('core', 'big_swing'));
ALTER TABLE commitment_periods DROP CONSTRAINT commitment_periods_status_check;
ALTER TABLE commitment_periods ADD CONSTRAINT commitment_periods_status_check
    CHECK (status IN ('done', 'skipped', 'killed'));

-- "Established in my role": a setting in the spec, carried from version to version like the phase.
ALTER TABLE spec_versions ADD COLUMN established BOOLEAN NOT NULL DEFAULT false;
