-- Every save of a career spec is a new row; the highest version is the current spec.
CREATE TABLE spec_versions (
    id             BIGSERIAL PRIMARY KEY,
    member_id      BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    version        INTEGER NOT NULL CHECK (version >= 1),
    vision         TEXT NOT NULL DEFAULT '',
    milestones_1y  TEXT NOT NULL DEFAULT '',
    milestones_3y  TEXT NOT NULL DEFAULT '',
    milestones_5y  TEXT NOT NULL DEFAULT '',
    skills         TEXT NOT NULL DEFAULT '',
    metrics        TEXT NOT NULL DEFAULT '',
    tradeoffs      TEXT NOT NULL DEFAULT '',
    phase          TEXT NOT NULL DEFAULT 'learning' CHECK (phase IN ('learning', 'impact')),
    phase_since    TIMESTAMPTZ NOT NULL DEFAULT now(),
    visibility     TEXT NOT NULL DEFAULT 'private' CHECK (visibility IN ('private', 'circle')),
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (member_id, version)
);
