//! Throwaway databases for `simulate` and `bench`: created on the configured server, dropped afterwards.

use anyhow::Context as _;
use sqlx::{Connection, PgConnection, PgPool};

use crate::store;

pub struct ScratchDb {
    admin_url: String,
    name: String,
    pub url: String,
    pub pool: PgPool,
}

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

impl ScratchDb {
    pub async fn create(server_url: &str, prefix: &str) -> anyhow::Result<Self> {
        let (base, query) = split_url(server_url)?;
        let admin_url = format!("{base}/postgres{query}");
        let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
        // Identifiers cannot be bind parameters; this one is ours and only [a-z0-9_], so quoting it is safe.
        debug_assert!(
            name.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        );
        let mut admin = PgConnection::connect(&admin_url)
            .await
            .context("connecting to PostgreSQL")?;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .execute(&mut admin)
            .await
            .context("creating a scratch database")?;
        admin.close().await.ok();
        let url = format!("{base}/{name}{query}");
        let pool = store::connect(&url, 16, std::time::Duration::from_secs(10)).await?;
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
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
            self.name
        )))
        .execute(&mut admin)
        .await?;
        Ok(())
    }
}
