//! Servers, circles, members and memberships.

use chrono::{DateTime, Utc};
use sqlx::{PgPool, Postgres, Transaction};

use crate::chat::Platform;
use crate::domain::delivery::DeliveryKind;
use crate::domain::membership::Role;
use crate::domain::recurrence::CronSchedule;
use crate::domain::zone::Zone;
use crate::store::decode;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Circle {
    pub id: i64,
    pub server_id: i64,
    pub platform: Platform,
    pub name: String,
    pub home_channel_id: String,
    pub zone: Zone,
    pub paused: bool,
    pub paused_until: Option<DateTime<Utc>>,
    pub review_window_days: i32,
    /// The bot was removed from the circle's server: nothing is delivered until it is added back.
    pub bot_removed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub id: i64,
    pub server_id: i64,
    pub platform_user_id: String,
    pub display_name: String,
    /// The zone the member chose; None when they have not (see `member_zone` for the one that applies).
    pub zone: Option<Zone>,
    pub vacation_until: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CircleMember {
    pub member_id: i64,
    pub platform_user_id: String,
    pub display_name: String,
    pub role: Role,
    /// The member's effective zone (the `member_zones` rule).
    pub zone: Zone,
}

struct CircleRow {
    id: i64,
    server_id: i64,
    platform: String,
    name: String,
    home_channel_id: String,
    zone: String,
    paused: bool,
    paused_until: Option<DateTime<Utc>>,
    review_window_days: i32,
    bot_removed: bool,
}

impl TryFrom<CircleRow> for Circle {
    type Error = sqlx::Error;

    fn try_from(r: CircleRow) -> sqlx::Result<Circle> {
        Ok(Circle {
            id: r.id,
            server_id: r.server_id,
            platform: decode_platform(&r.platform)?,
            name: r.name,
            home_channel_id: r.home_channel_id,
            zone: decode("circles.zone", &r.zone)?,
            paused: r.paused,
            paused_until: r.paused_until,
            review_window_days: r.review_window_days,
            bot_removed: r.bot_removed,
        })
    }
}

struct MemberRow {
    id: i64,
    server_id: i64,
    platform_user_id: String,
    display_name: String,
    zone: Option<String>,
    vacation_until: Option<DateTime<Utc>>,
}

impl TryFrom<MemberRow> for Member {
    type Error = sqlx::Error;

    fn try_from(r: MemberRow) -> sqlx::Result<Member> {
        Ok(Member {
            id: r.id,
            server_id: r.server_id,
            platform_user_id: r.platform_user_id,
            display_name: r.display_name,
            zone: r
                .zone
                .as_deref()
                .map(|z| decode("members.zone", z))
                .transpose()?,
            vacation_until: r.vacation_until,
        })
    }
}

pub(crate) fn decode_platform(text: &str) -> sqlx::Result<Platform> {
    Platform::parse(text).ok_or_else(|| sqlx::Error::ColumnDecode {
        index: "servers.platform".to_owned(),
        source: format!("\"{text}\" is not a known platform").into(),
    })
}

fn members(rows: Vec<MemberRow>) -> sqlx::Result<Vec<Member>> {
    rows.into_iter().map(Member::try_from).collect()
}

fn circles(rows: Vec<CircleRow>) -> sqlx::Result<Vec<Circle>> {
    rows.into_iter().map(Circle::try_from).collect()
}

pub async fn ensure_server(
    tx: &mut Transaction<'_, Postgres>,
    platform: Platform,
    external_id: &str,
) -> sqlx::Result<i64> {
    // The no-op update makes RETURNING give the id whether the row is new or not.
    sqlx::query_scalar!(
        "INSERT INTO servers (platform, external_id) VALUES ($1, $2)
         ON CONFLICT (platform, external_id) DO UPDATE SET platform = EXCLUDED.platform
         RETURNING id",
        platform.as_str(),
        external_id,
    )
    .fetch_one(&mut **tx)
    .await
}

/// The member a platform user is on a server, in one lookup (every command starts with this).
pub async fn find_member_on(
    pool: &PgPool,
    platform: Platform,
    server_external_id: &str,
    platform_user_id: &str,
) -> sqlx::Result<Option<Member>> {
    sqlx::query_as!(
        MemberRow,
        "SELECT m.id, m.server_id, m.platform_user_id, m.display_name, m.zone, m.vacation_until
         FROM members m JOIN servers s ON s.id = m.server_id
         WHERE s.platform = $1 AND s.external_id = $2 AND m.platform_user_id = $3",
        platform.as_str(),
        server_external_id,
        platform_user_id,
    )
    .fetch_optional(pool)
    .await?
    .map(Member::try_from)
    .transpose()
}

pub async fn ensure_member(
    tx: &mut Transaction<'_, Postgres>,
    server_id: i64,
    platform_user_id: &str,
    display_name: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<Member> {
    sqlx::query_as!(
        MemberRow,
        "INSERT INTO members (server_id, platform_user_id, display_name, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (server_id, platform_user_id) DO UPDATE SET display_name = EXCLUDED.display_name
         RETURNING id, server_id, platform_user_id, display_name, zone, vacation_until",
        server_id,
        platform_user_id,
        display_name,
        now,
    )
    .fetch_one(&mut **tx)
    .await?
    .try_into()
}

pub async fn find_member(
    pool: &PgPool,
    server_id: i64,
    platform_user_id: &str,
) -> sqlx::Result<Option<Member>> {
    sqlx::query_as!(
        MemberRow,
        "SELECT id, server_id, platform_user_id, display_name, zone, vacation_until
         FROM members WHERE server_id = $1 AND platform_user_id = $2",
        server_id,
        platform_user_id,
    )
    .fetch_optional(pool)
    .await?
    .map(Member::try_from)
    .transpose()
}

pub async fn member_by_id(pool: &PgPool, member_id: i64) -> sqlx::Result<Option<Member>> {
    sqlx::query_as!(
        MemberRow,
        "SELECT id, server_id, platform_user_id, display_name, zone, vacation_until FROM members WHERE id = $1",
        member_id,
    )
    .fetch_optional(pool)
    .await?
    .map(Member::try_from)
    .transpose()
}

/// The zone that applies to a member: the `member_zones` rule (their own, else their first circle's); None only
/// for a member in no circle.
pub async fn member_zone(pool: &PgPool, member_id: i64) -> sqlx::Result<Option<Zone>> {
    let zone = sqlx::query_scalar!(
        "SELECT zone FROM member_zones WHERE member_id = $1",
        member_id
    )
    .fetch_optional(pool)
    .await?
    .flatten();
    zone.as_deref()
        .map(|z| decode("member_zones.zone", z))
        .transpose()
}

/// Every member record of a platform user, across servers (DM replies carry no server).
pub async fn members_of_user(
    pool: &PgPool,
    platform: Platform,
    platform_user_id: &str,
) -> sqlx::Result<Vec<Member>> {
    let rows = sqlx::query_as!(
        MemberRow,
        "SELECT m.id, m.server_id, m.platform_user_id, m.display_name, m.zone, m.vacation_until
         FROM members m JOIN servers s ON s.id = m.server_id
         WHERE s.platform = $1 AND m.platform_user_id = $2 ORDER BY m.id",
        platform.as_str(),
        platform_user_id,
    )
    .fetch_all(pool)
    .await?;
    members(rows)
}

/// The platform's id of each server (a guild id), by our id.
pub async fn server_external_ids(
    pool: &PgPool,
    server_ids: &[i64],
) -> sqlx::Result<Vec<(i64, String)>> {
    let rows = sqlx::query!(
        "SELECT id, external_id FROM servers WHERE id = ANY($1) ORDER BY id",
        server_ids
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.external_id)).collect())
}

pub async fn set_member_zone(pool: &PgPool, member_id: i64, zone: Zone) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE members SET zone = $2, zone_from_platform = false WHERE id = $1",
        member_id,
        zone.name()
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// A zone the platform reports for the user (Slack's profile `tz`), on every server of that platform where they
/// are a member: kept unless they chose one themselves. Returns how many members changed.
pub async fn set_platform_zone(
    pool: &PgPool,
    platform: Platform,
    user_id: &str,
    zone: Zone,
) -> sqlx::Result<u64> {
    let done = sqlx::query!(
        "UPDATE members m SET zone = $3, zone_from_platform = true
         FROM servers s
         WHERE s.id = m.server_id AND s.platform = $1 AND m.platform_user_id = $2
           AND (m.zone IS NULL OR m.zone_from_platform) AND m.zone IS DISTINCT FROM $3",
        platform.as_str(),
        user_id,
        zone.name(),
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}

/// Whether the user is a member somewhere on `platform` with no zone of their own yet.
pub async fn zone_unknown(pool: &PgPool, platform: Platform, user_id: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM members m JOIN servers s ON s.id = m.server_id
                          WHERE s.platform = $1 AND m.platform_user_id = $2 AND m.zone IS NULL) AS "unknown!""#,
        platform.as_str(),
        user_id,
    )
    .fetch_one(pool)
    .await
}

pub async fn set_vacation(
    pool: &PgPool,
    member_id: i64,
    until: Option<DateTime<Utc>>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE members SET vacation_until = $2 WHERE id = $1",
        member_id,
        until
    )
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn create_circle(
    tx: &mut Transaction<'_, Postgres>,
    server_id: i64,
    name: &str,
    home_channel_id: &str,
    zone: Zone,
    now: DateTime<Utc>,
) -> sqlx::Result<Option<Circle>> {
    sqlx::query_as!(
        CircleRow,
        r#"WITH made AS (
               INSERT INTO circles (server_id, name, home_channel_id, zone, created_at) VALUES ($1, $2, $3, $4, $5)
               ON CONFLICT DO NOTHING
               RETURNING id, server_id, name, home_channel_id, zone, paused, paused_until, review_window_days)
           SELECT made.id AS "id!", made.server_id AS "server_id!", s.platform, made.name AS "name!",
                  made.home_channel_id AS "home_channel_id!", made.zone AS "zone!", made.paused AS "paused!",
                  made.paused_until, made.review_window_days AS "review_window_days!",
                  (s.bot_removed_at IS NOT NULL) AS "bot_removed!"
           FROM made JOIN servers s ON s.id = made.server_id"#,
        server_id,
        name,
        home_channel_id,
        zone.name(),
        now,
    )
    .fetch_optional(&mut **tx)
    .await?
    .map(Circle::try_from)
    .transpose()
}

pub async fn circles_of_server(pool: &PgPool, server_id: i64) -> sqlx::Result<Vec<Circle>> {
    let rows = sqlx::query_as!(
        CircleRow,
        r#"SELECT c.id, c.server_id, s.platform, c.name, c.home_channel_id, c.zone, c.paused, c.paused_until,
                  c.review_window_days, (s.bot_removed_at IS NOT NULL) AS "bot_removed!"
           FROM circles c JOIN servers s ON s.id = c.server_id WHERE c.server_id = $1 ORDER BY lower(c.name)"#,
        server_id,
    )
    .fetch_all(pool)
    .await?;
    circles(rows)
}

pub async fn circle_by_id(pool: &PgPool, circle_id: i64) -> sqlx::Result<Option<Circle>> {
    sqlx::query_as!(
        CircleRow,
        r#"SELECT c.id, c.server_id, s.platform, c.name, c.home_channel_id, c.zone, c.paused, c.paused_until,
                  c.review_window_days, (s.bot_removed_at IS NOT NULL) AS "bot_removed!"
           FROM circles c JOIN servers s ON s.id = c.server_id WHERE c.id = $1"#,
        circle_id,
    )
    .fetch_optional(pool)
    .await?
    .map(Circle::try_from)
    .transpose()
}

/// The circles a member belongs to, with their role in each.
pub async fn circles_of_member(pool: &PgPool, member_id: i64) -> sqlx::Result<Vec<(Circle, Role)>> {
    let rows = sqlx::query!(
        r#"SELECT c.id, c.server_id, s.platform, c.name, c.home_channel_id, c.zone, c.paused, c.paused_until,
                  c.review_window_days, (s.bot_removed_at IS NOT NULL) AS "bot_removed!", ms.role
           FROM circles c JOIN memberships ms ON ms.circle_id = c.id JOIN servers s ON s.id = c.server_id
           WHERE ms.member_id = $1 ORDER BY ms.joined_at, c.id"#,
        member_id,
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|r| {
            let role = decode("memberships.role", &r.role)?;
            let circle = Circle::try_from(CircleRow {
                id: r.id,
                server_id: r.server_id,
                platform: r.platform,
                name: r.name,
                home_channel_id: r.home_channel_id,
                zone: r.zone,
                paused: r.paused,
                paused_until: r.paused_until,
                review_window_days: r.review_window_days,
                bot_removed: r.bot_removed,
            })?;
            Ok((circle, role))
        })
        .collect()
}

/// Adds a membership; false when the member was already in the circle.
pub async fn join(
    tx: &mut Transaction<'_, Postgres>,
    circle_id: i64,
    member_id: i64,
    role: Role,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "INSERT INTO memberships (circle_id, member_id, role, joined_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT DO NOTHING",
        circle_id,
        member_id,
        role.as_str(),
        now,
    )
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn leave(pool: &PgPool, circle_id: i64, member_id: i64) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "DELETE FROM memberships WHERE circle_id = $1 AND member_id = $2",
        circle_id,
        member_id
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Makes a member of the circle an organiser or a member again; false when they are not in the circle.
pub async fn set_role(
    pool: &PgPool,
    circle_id: i64,
    member_id: i64,
    role: Role,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "UPDATE memberships SET role = $3 WHERE circle_id = $1 AND member_id = $2",
        circle_id,
        member_id,
        role.as_str(),
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Takes a member out of every circle they are in (a member record belongs to one server, so these are that
/// server's circles). Returns the circles they left. Their records stay theirs; past summaries keep naming them.
pub async fn leave_all(
    tx: &mut Transaction<'_, Postgres>,
    member_id: i64,
) -> sqlx::Result<Vec<i64>> {
    sqlx::query_scalar!(
        "DELETE FROM memberships WHERE member_id = $1 RETURNING circle_id",
        member_id
    )
    .fetch_all(&mut **tx)
    .await
}

/// Circles among `circle_ids` that still have members but no organiser get one: the longest-standing member
/// (earliest joined, then the oldest record). Returns (circle, new organiser) for each handover.
pub async fn hand_over_orphaned(
    tx: &mut Transaction<'_, Postgres>,
    circle_ids: &[i64],
) -> sqlx::Result<Vec<(i64, i64)>> {
    let rows = sqlx::query!(
        r#"UPDATE memberships ms SET role = 'organiser'
           FROM (SELECT DISTINCT ON (m.circle_id) m.circle_id, m.member_id
                 FROM memberships m
                 WHERE m.circle_id = ANY($1)
                   AND NOT EXISTS (SELECT 1 FROM memberships o
                                   WHERE o.circle_id = m.circle_id AND o.role = 'organiser')
                 ORDER BY m.circle_id, m.joined_at, m.member_id) heir
           WHERE ms.circle_id = heir.circle_id AND ms.member_id = heir.member_id
           RETURNING ms.circle_id, ms.member_id"#,
        circle_ids,
    )
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.circle_id, r.member_id))
        .collect())
}

/// Hands each of these circles left without an organiser to its longest-standing member and queues the DM that
/// tells them (once per member, circle and month). Returns (circle, new organiser) for each handover.
pub async fn hand_over_and_tell(
    tx: &mut Transaction<'_, Postgres>,
    circle_ids: &[i64],
    now: DateTime<Utc>,
) -> sqlx::Result<Vec<(i64, i64)>> {
    let handed = hand_over_orphaned(tx, circle_ids).await?;
    for (circle_id, member_id) in &handed {
        let zone: Option<String> =
            sqlx::query_scalar!("SELECT zone FROM circles WHERE id = $1", circle_id)
                .fetch_optional(&mut **tx)
                .await?;
        let zone: Zone = match zone {
            Some(z) => decode("circles.zone", &z)?,
            None => continue,
        };
        let month = crate::domain::period::Period::containing_month(
            crate::domain::period::local_date(now, zone),
        );
        crate::store::deliveries::queue_notice(
            tx,
            DeliveryKind::OrganiserHandover,
            *circle_id,
            Some(*member_id),
            month,
            now,
        )
        .await?;
    }
    Ok(handed)
}

/// A member record leaves every circle it is in (its member left the server, or the platform no longer knows
/// them), handing over organiser roles left empty. Returns how many circles it left.
pub async fn member_gone(pool: &PgPool, member_id: i64, now: DateTime<Utc>) -> sqlx::Result<usize> {
    let mut tx = pool.begin().await?;
    let left = leave_all(&mut tx, member_id).await?;
    let handed = hand_over_and_tell(&mut tx, &left, now).await?;
    tx.commit().await?;
    if !left.is_empty() {
        tracing::info!(
            circles = left.len(),
            handovers = handed.len(),
            "a member left their server's circles"
        );
    }
    Ok(left.len())
}

/// The circles every member record of a platform user is in (before a deletion takes them away).
pub async fn circle_ids_of_user(
    tx: &mut Transaction<'_, Postgres>,
    platform: Platform,
    platform_user_id: &str,
) -> sqlx::Result<Vec<i64>> {
    sqlx::query_scalar!(
        "SELECT DISTINCT ms.circle_id FROM memberships ms JOIN members m ON m.id = ms.member_id
         JOIN servers s ON s.id = m.server_id
         WHERE s.platform = $1 AND m.platform_user_id = $2",
        platform.as_str(),
        platform_user_id,
    )
    .fetch_all(&mut **tx)
    .await
}

/// Records whether the bot is in a server (Discord GUILD_DELETE removes it, GUILD_CREATE brings it back). Returns
/// true when this changed something. A server the bot has never seen is recorded on first contact elsewhere.
pub async fn set_bot_removed(
    pool: &PgPool,
    platform: Platform,
    external_id: &str,
    removed_at: Option<DateTime<Utc>>,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "UPDATE servers SET bot_removed_at = $3
         WHERE platform = $1 AND external_id = $2 AND (bot_removed_at IS NULL) <> ($3::timestamptz IS NULL)",
        platform.as_str(),
        external_id,
        removed_at,
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected() > 0)
}

pub async fn members_of_circle(pool: &PgPool, circle_id: i64) -> sqlx::Result<Vec<CircleMember>> {
    let rows = sqlx::query!(
        r#"SELECT m.id AS member_id, m.platform_user_id, m.display_name, ms.role, mz.zone AS "zone!"
           FROM memberships ms JOIN members m ON m.id = ms.member_id
           JOIN member_zones mz ON mz.member_id = m.id
           WHERE ms.circle_id = $1 ORDER BY ms.joined_at, m.id"#,
        circle_id,
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(CircleMember {
                member_id: r.member_id,
                platform_user_id: r.platform_user_id,
                display_name: r.display_name,
                role: decode("memberships.role", &r.role)?,
                zone: decode("member_zones.zone", &r.zone)?,
            })
        })
        .collect()
}

/// Members by id as a circle lists them (role: member), whether or not they are still in a circle; `fallback` is
/// the zone of one who is in none.
pub async fn members_by_ids(
    pool: &PgPool,
    member_ids: &[i64],
    fallback: Zone,
) -> sqlx::Result<Vec<CircleMember>> {
    let rows = sqlx::query!(
        "SELECT m.id AS member_id, m.platform_user_id, m.display_name, mz.zone
         FROM members m JOIN member_zones mz ON mz.member_id = m.id
         WHERE m.id = ANY($1) ORDER BY m.id",
        member_ids,
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(CircleMember {
                member_id: r.member_id,
                platform_user_id: r.platform_user_id,
                display_name: r.display_name,
                role: Role::Member,
                zone: match r.zone {
                    Some(z) => decode("member_zones.zone", &z)?,
                    None => fallback,
                },
            })
        })
        .collect()
}

pub async fn set_pause(
    pool: &PgPool,
    circle_id: i64,
    paused: bool,
    until: Option<DateTime<Utc>>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE circles SET paused = $2, paused_until = $3 WHERE id = $1",
        circle_id,
        paused,
        until
    )
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn update_circle(
    pool: &PgPool,
    circle_id: i64,
    home_channel_id: &str,
    zone: Zone,
    review_window_days: i32,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE circles SET home_channel_id = $2, zone = $3, review_window_days = $4 WHERE id = $1",
        circle_id,
        home_channel_id,
        zone.name(),
        review_window_days,
    )
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn set_recurrence(
    pool: &PgPool,
    circle_id: i64,
    kind: DeliveryKind,
    cron: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO circle_recurrences (circle_id, kind, cron, updated_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (circle_id, kind) DO UPDATE SET cron = EXCLUDED.cron, updated_at = EXCLUDED.updated_at",
        circle_id,
        kind.as_str(),
        cron,
        now,
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// The schedules an organiser set for the circle, as they were stored (validated on the way in).
pub async fn recurrences(
    pool: &PgPool,
    circle_id: i64,
) -> sqlx::Result<Vec<(DeliveryKind, CronSchedule)>> {
    let rows = sqlx::query!(
        "SELECT kind, cron FROM circle_recurrences WHERE circle_id = $1 ORDER BY kind",
        circle_id
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok((
                decode("circle_recurrences.kind", &r.kind)?,
                decode("circle_recurrences.cron", &r.cron)?,
            ))
        })
        .collect()
}

/// Removes every member record of a platform user, on every server; the foreign keys cascade to everything they
/// wrote or were sent (specs, commitments, wins, check-ins, feedback, deliveries). Returns the records removed.
pub async fn delete_user(
    tx: &mut Transaction<'_, Postgres>,
    platform: Platform,
    platform_user_id: &str,
) -> sqlx::Result<u64> {
    let done = sqlx::query!(
        "DELETE FROM members m USING servers s
         WHERE s.id = m.server_id AND s.platform = $1 AND m.platform_user_id = $2",
        platform.as_str(),
        platform_user_id,
    )
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected())
}

/// Circles, and the members in at least one circle, on one chat platform (for /metrics).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformCounts {
    pub platform: String,
    pub circles: i64,
    pub members: i64,
}

pub async fn counts_by_platform(pool: &PgPool) -> sqlx::Result<Vec<PlatformCounts>> {
    sqlx::query_as!(
        PlatformCounts,
        r#"SELECT s.platform, count(DISTINCT c.id) AS "circles!", count(DISTINCT ms.member_id) AS "members!"
           FROM servers s
           JOIN circles c ON c.server_id = s.id
           LEFT JOIN memberships ms ON ms.circle_id = c.id
           GROUP BY s.platform"#
    )
    .fetch_all(pool)
    .await
}
