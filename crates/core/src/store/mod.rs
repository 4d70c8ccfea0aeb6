//! All SQL lives here, one file per aggregate, checked at compile time against the migrations.

pub mod bench;
pub mod checkins;
pub mod circles;
pub mod commitments;
pub mod deliveries;
pub mod dm_channels;
pub mod events;
pub mod events_seen;
pub mod feedback;
pub mod opportunities;
pub mod pacing;
pub mod partitions;
pub mod planner;
pub mod portfolio;
pub mod redactions;
pub mod replies;
pub mod reviews;
pub mod scorecard;
pub mod scratch;
pub mod shard_locks;
pub mod specs;
pub mod wins;

use std::fmt::Display;
use std::str::FromStr;
use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations");

pub async fn connect(
    url: &str,
    max_connections: u32,
    connect_timeout: Duration,
) -> sqlx::Result<PgPool> {
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(connect_timeout)
        .connect(url)
        .await
}

/// A pool for the long-running bot: each session cancels a runaway statement and ends a transaction left idle,
/// so a stuck instance can neither hold the outbox's locks nor keep vacuum from its dead rows.
pub async fn connect_with_timeouts(
    url: &str,
    max_connections: u32,
    connect_timeout: Duration,
    statement_timeout: Duration,
    idle_in_transaction_timeout: Duration,
) -> sqlx::Result<PgPool> {
    let ms = |d: Duration| d.as_millis().to_string();
    let options: sqlx::postgres::PgConnectOptions = url.parse()?;
    let options = options.options([
        ("statement_timeout", ms(statement_timeout)),
        (
            "idle_in_transaction_session_timeout",
            ms(idle_in_transaction_timeout),
        ),
    ]);
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(connect_timeout)
        .connect_with(options)
        .await
}

/// Applies pending migrations; a no-op when the database is up to date.
pub async fn migrate(pool: &PgPool) -> Result<(), sqlx::migrate::MigrateError> {
    MIGRATOR.run(pool).await
}

/// Versions of the migrations applied to this database (an error when none ever were).
pub async fn applied_migrations(pool: &PgPool) -> sqlx::Result<Vec<i64>> {
    // The migrations table is sqlx's own and may not exist yet, so this query cannot be checked at build time.
    sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
        .fetch_all(pool)
        .await
}

/// Reads a stored word back into its domain type at the store's edge: a value the type does not know is an error
/// naming the column, never a silent default.
pub(crate) fn decode<T>(column: &'static str, value: &str) -> sqlx::Result<T>
where
    T: FromStr,
    T::Err: Display,
{
    value.parse::<T>().map_err(|e| sqlx::Error::ColumnDecode {
        index: column.to_owned(),
        source: format!("{e}").into(),
    })
}
