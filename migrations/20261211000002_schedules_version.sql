-- The planner listed every (schedule, zone) pair in use on every tick, a scan of all memberships every 30 s on
-- every instance. It now keeps the list and lists again only when this version moves, which the triggers below
-- bump on any change that can add or remove a pair: members joining or leaving, a member's or a circle's zone,
-- a circle's schedules. A tick's cost then follows what is due, not how many members there are.
CREATE TABLE planner_schedules (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO planner_schedules (id, version) VALUES (1, 0);

CREATE FUNCTION career_circle_schedules_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE planner_schedules SET version = version + 1 WHERE id = 1;
    RETURN NULL;
END;
$$;

CREATE TRIGGER memberships_change_schedules AFTER INSERT OR DELETE OR UPDATE ON memberships
    FOR EACH STATEMENT EXECUTE FUNCTION career_circle_schedules_changed();
CREATE TRIGGER members_change_schedules AFTER INSERT OR DELETE OR UPDATE OF zone ON members
    FOR EACH STATEMENT EXECUTE FUNCTION career_circle_schedules_changed();
CREATE TRIGGER circles_change_schedules AFTER INSERT OR DELETE OR UPDATE OF zone ON circles
    FOR EACH STATEMENT EXECUTE FUNCTION career_circle_schedules_changed();
CREATE TRIGGER circle_recurrences_change_schedules AFTER INSERT OR DELETE OR UPDATE ON circle_recurrences
    FOR EACH STATEMENT EXECUTE FUNCTION career_circle_schedules_changed();
