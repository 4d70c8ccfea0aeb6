CREATE TABLE commitments (
    id         BIGSERIAL PRIMARY KEY,
    member_id  BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    title      TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    cadence    TEXT NOT NULL DEFAULT 'monthly' CHECK (cadence IN ('weekly', 'monthly', 'quarterly')),
    started_on DATE NOT NULL,
    dropped_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- The planner's eligibility test looks up a member's commitments by cadence for every member it plans for. Not a
-- partial index on open commitments: the test also counts ones dropped after the occurrence, which a
-- "dropped_at IS NULL" index cannot answer (the planner fell back to a sequential scan per member).
CREATE INDEX commitments_member_idx ON commitments (member_id, cadence);

-- One row per commitment and local period; "done" twice in a period updates the row.
CREATE TABLE commitment_periods (
    id            BIGSERIAL PRIMARY KEY,
    commitment_id BIGINT NOT NULL REFERENCES commitments (id) ON DELETE CASCADE,
    period        TEXT NOT NULL,
    status        TEXT NOT NULL DEFAULT 'done' CHECK (status IN ('done', 'skipped')),
    done_at       TIMESTAMPTZ NOT NULL,
    link          TEXT,
    note          TEXT,
    UNIQUE (commitment_id, period)
);

CREATE TABLE wins (
    id         BIGSERIAL PRIMARY KEY,
    member_id  BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    text       TEXT NOT NULL CHECK (length(text) BETWEEN 1 AND 2000),
    link       TEXT,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX wins_member_idx ON wins (member_id, created_at);

-- One check-in per member, circle and quarter; edits keep the earlier text in checkin_revisions.
CREATE TABLE checkins (
    id           BIGSERIAL PRIMARY KEY,
    member_id    BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    circle_id    BIGINT NOT NULL REFERENCES circles (id) ON DELETE CASCADE,
    period       TEXT NOT NULL,
    answers      JSONB NOT NULL,
    submitted_at TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    UNIQUE (member_id, circle_id, period)
);
CREATE INDEX checkins_circle_period_idx ON checkins (circle_id, period);

CREATE TABLE checkin_revisions (
    id         BIGSERIAL PRIMARY KEY,
    checkin_id BIGINT NOT NULL REFERENCES checkins (id) ON DELETE CASCADE,
    answers    JSONB NOT NULL,
    written_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX checkin_revisions_checkin_idx ON checkin_revisions (checkin_id);

CREATE TABLE opportunity_evaluations (
    id             BIGSERIAL PRIMARY KEY,
    member_id      BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    name           TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    must_haves     JSONB NOT NULL,
    scores         JSONB NOT NULL,
    weighted_score DOUBLE PRECISION NOT NULL,
    verdict        TEXT NOT NULL CHECK (verdict IN ('closer', 'further', 'fails_must_have')),
    created_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX opportunity_evaluations_member_idx ON opportunity_evaluations (member_id, created_at);
