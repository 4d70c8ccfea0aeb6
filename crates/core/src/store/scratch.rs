//! Throwaway databases for `simulate`, the demo and `bench`: created on the configured server, dropped afterwards.
//!
//! Running the migrations into an empty database costs seconds (one DDL transaction and fsync after another), which
//! is most of what a short `simulate` takes. So the first scratch database on a server is migrated into a template,
//! `cc_scratch_template_<hash of the migrations>`, and every later one is a copy of it (PostgreSQL 15 copies a small
//! database in a fraction of a second). New migrations make a new hash; the stale template is dropped then.

use anyhow::Context as _;
use sqlx::{Connection, PgConnection, PgPool};

use crate::store;

/// Whether commits in the scratch database wait for the disk. Nothing in it outlives the process, so work that only
/// computes an answer (simulate, the demo) need not; a benchmark measures the real thing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Commits {
    Durable,
    Relaxed,
}

pub struct ScratchDb {
    admin_url: String,
    name: String,
    pub url: String,
    pub pool: PgPool,
}

const TEMPLATE_PREFIX: &str = "cc_scratch_template_";

/// Splits "postgres://u@h:5432/db?x=y" into the part before the database name, the name, and the query.
fn split_url(url: &str) -> anyhow::Result<(&str, &str)> {
    let after_scheme = url.find("://").context("database URL has no scheme")? + 3;
    let (base, query) = match url.find('?') {
        Some(q) => (&url[..q], &url[q..]),
        None => (url, ""),
    };
    let slash = base[after_scheme..].find('/').map(|i| i + after_scheme);
    Ok((slash.map(|s| &base[..s]).unwrap_or(base), query))
}

/// The template's name for this build's migrations: FNV-1a over each migration's version and checksum, so a changed
/// or added migration never reuses a template migrated by another build.
fn template_name() -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for m in store::MIGRATOR.iter() {
        for byte in m.version.to_le_bytes().iter().chain(m.checksum.iter()) {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    format!("{TEMPLATE_PREFIX}{hash:016x}")
}

/// Names this module builds are [a-z0-9_] only, so quoting them as identifiers is safe; they cannot be bind
/// parameters in DDL.
fn checked(name: &str) -> &str {
    assert!(plain(name), "not a scratch database name: {name}");
    name
}

fn plain(name: &str) -> bool {
    name.chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

async fn is_template(admin: &mut PgConnection, name: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1 AND datistemplate) AS "exists!""#,
        name
    )
    .fetch_one(admin)
    .await
}

/// One DDL statement on the admin connection, naming only a database this module named.
async fn ddl(admin: &mut PgConnection, statement: String) -> sqlx::Result<()> {
    sqlx::query(sqlx::AssertSqlSafe(statement))
        .execute(admin)
        .await
        .map(|_| ())
}

impl ScratchDb {
    pub async fn create(server_url: &str, prefix: &str, commits: Commits) -> anyhow::Result<Self> {
        let (base, query) = split_url(server_url)?;
        let admin_url = format!("{base}/postgres{query}");
        let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::connect(&admin_url)
            .await
            .context("connecting to PostgreSQL")?;
        // A copy of the migrated template when there is one (or can be made); otherwise migrate from empty, as
        // before: a server that refuses templates still gets a working scratch database.
        let copied = match ensure_template(&mut admin, base, query).await {
            Ok(template) => ddl(
                &mut admin,
                format!(
                    "CREATE DATABASE \"{}\" TEMPLATE \"{}\"",
                    checked(&name),
                    checked(&template)
                ),
            )
            .await
            .inspect_err(|e| tracing::debug!(error = %e, "copying the scratch template"))
            .is_ok(),
            Err(e) => {
                tracing::debug!(error = %format!("{e:#}"), "no scratch template");
                false
            }
        };
        if !copied {
            ddl(
                &mut admin,
                format!("CREATE DATABASE \"{}\"", checked(&name)),
            )
            .await
            .context("creating a scratch database")?;
        }
        if commits == Commits::Relaxed {
            ddl(
                &mut admin,
                format!(
                    "ALTER DATABASE \"{}\" SET synchronous_commit = off",
                    checked(&name)
                ),
            )
            .await
            .context("relaxing the scratch database's commits")?;
        }
        admin.close().await.ok();
        let url = format!("{base}/{name}{query}");
        let pool = store::connect(&url, 16, std::time::Duration::from_secs(10)).await?;
        // A copy of the template is already migrated: this only confirms it.
        store::migrate(&pool)
            .await
            .context("migrating the scratch database")?;
        Ok(Self {
            admin_url,
            name,
            url,
            pool,
        })
    }

    /// Drops the database and hands back the result of the work done in it; a failed drop is only logged,
    /// so it never hides the work's own outcome.
    pub async fn finish<T>(self, result: anyhow::Result<T>) -> anyhow::Result<T> {
        if let Err(e) = self.drop().await {
            tracing::warn!(error = %e, "could not drop the scratch database");
        }
        result
    }

    pub async fn drop(self) -> anyhow::Result<()> {
        self.pool.close().await;
        let mut admin = PgConnection::connect(&self.admin_url).await?;
        ddl(
            &mut admin,
            format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                checked(&self.name)
            ),
        )
        .await?;
        Ok(())
    }
}

/// The migrated template for this build, made if missing. Two processes may race to make it: each migrates a
/// database of its own and renames it into place, and the loser drops its own. Nobody may connect to a template
/// (a connected session would make every copy fail), so it is built under another name and closed first.
async fn ensure_template(
    admin: &mut PgConnection,
    base: &str,
    query: &str,
) -> anyhow::Result<String> {
    let template = template_name();
    if is_template(admin, &template).await? {
        return Ok(template);
    }
    let building = format!("{template}_{}", uuid::Uuid::new_v4().simple());
    ddl(admin, format!("CREATE DATABASE \"{}\"", checked(&building))).await?;
    let migrated = async {
        let pool = store::connect(
            &format!("{base}/{building}{query}"),
            1,
            std::time::Duration::from_secs(10),
        )
        .await?;
        let result = store::migrate(&pool).await;
        pool.close().await;
        result.map_err(anyhow::Error::from)
    }
    .await;
    let renamed = match migrated {
        Ok(()) => ddl(
            admin,
            format!(
                "ALTER DATABASE \"{}\" RENAME TO \"{}\"",
                checked(&building),
                checked(&template)
            ),
        )
        .await
        .map_err(anyhow::Error::from),
        Err(e) => Err(e),
    };
    if let Err(e) = renamed {
        // Lost the race (the name is taken) or could not migrate: ours goes; another's template may still serve.
        let _ = ddl(
            admin,
            format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                checked(&building)
            ),
        )
        .await;
        tracing::debug!(error = %format!("{e:#}"), "building the scratch template");
    } else {
        ddl(
            admin,
            format!(
                "ALTER DATABASE \"{}\" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false",
                checked(&template)
            ),
        )
        .await?;
        drop_stale_templates(admin, &template).await;
    }
    anyhow::ensure!(
        is_template(admin, &template).await?,
        "the scratch template {template} is not ready"
    );
    Ok(template)
}

/// Templates left by builds with other migrations: nothing will copy them again.
async fn drop_stale_templates(admin: &mut PgConnection, current: &str) {
    let stale = sqlx::query_scalar!(
        r#"SELECT datname::text AS "name!" FROM pg_database
           WHERE starts_with(datname::text, $1) AND datname <> $2 AND datistemplate"#,
        TEMPLATE_PREFIX,
        current
    )
    .fetch_all(&mut *admin)
    .await
    .unwrap_or_default();
    for name in stale {
        if !plain(&name) {
            continue;
        }
        let unmarked = ddl(
            admin,
            format!(
                "ALTER DATABASE \"{}\" WITH IS_TEMPLATE false",
                checked(&name)
            ),
        )
        .await;
        if unmarked.is_ok() {
            let _ = ddl(
                admin,
                format!("DROP DATABASE IF EXISTS \"{}\"", checked(&name)),
            )
            .await;
        }
    }
}
