-- Chat servers (a Discord guild, a Slack workspace, the console demo). Nothing a member owns crosses servers.
CREATE TABLE servers (
    id          BIGSERIAL PRIMARY KEY,
    platform    TEXT NOT NULL CHECK (platform IN ('discord', 'slack', 'console')),
    external_id TEXT NOT NULL,
    name        TEXT,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (platform, external_id)
);

CREATE TABLE circles (
    id                  BIGSERIAL PRIMARY KEY,
    server_id           BIGINT NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
    name                TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    home_channel_id     TEXT NOT NULL,
    zone                TEXT NOT NULL,
    paused              BOOLEAN NOT NULL DEFAULT false,
    -- NULL with paused = true means "paused until an organiser resumes".
    paused_until        TIMESTAMPTZ,
    review_window_days  INTEGER NOT NULL DEFAULT 14 CHECK (review_window_days BETWEEN 1 AND 90),
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- Names are how members address a circle, so two that differ only in case would be ambiguous.
CREATE UNIQUE INDEX circles_server_name_key ON circles (server_id, lower(name));

-- A person as seen on one server. The same platform user on two servers is two members, which keeps
-- every record of theirs inside the server it was made on.
CREATE TABLE members (
    id               BIGSERIAL PRIMARY KEY,
    server_id        BIGINT NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
    platform_user_id TEXT NOT NULL,
    display_name     TEXT NOT NULL,
    -- NULL: the member has not chosen a zone, so the circle's zone applies.
    zone             TEXT,
    vacation_until   TIMESTAMPTZ,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (server_id, platform_user_id)
);
CREATE INDEX members_platform_user_idx ON members (platform_user_id);

CREATE TABLE memberships (
    circle_id BIGINT NOT NULL REFERENCES circles (id) ON DELETE CASCADE,
    member_id BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    role      TEXT NOT NULL DEFAULT 'member' CHECK (role IN ('organiser', 'member')),
    joined_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (circle_id, member_id)
);
CREATE INDEX memberships_member_idx ON memberships (member_id);
