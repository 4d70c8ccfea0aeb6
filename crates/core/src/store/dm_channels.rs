//! Members' DM channel ids, per platform: a DM channel never changes, so opening it is one request per member ever.

use async_trait::async_trait;
use sqlx::PgPool;

use crate::chat::{DmChannels, Platform};

#[derive(Debug, Clone)]
pub struct StoredDmChannels {
    pool: PgPool,
    platform: Platform,
}

impl StoredDmChannels {
    pub fn new(pool: PgPool, platform: Platform) -> Self {
        Self { pool, platform }
    }
}

#[async_trait]
impl DmChannels for StoredDmChannels {
    async fn get(&self, user_id: &str) -> anyhow::Result<Option<String>> {
        Ok(sqlx::query_scalar!(
            "SELECT channel_id FROM dm_channels WHERE platform = $1 AND user_id = $2",
            self.platform.as_str(),
            user_id,
        )
        .fetch_optional(&self.pool)
        .await?)
    }

    async fn put(&self, user_id: &str, channel_id: &str) -> anyhow::Result<()> {
        sqlx::query!(
            "INSERT INTO dm_channels (platform, user_id, channel_id) VALUES ($1, $2, $3)
             ON CONFLICT (platform, user_id) DO UPDATE SET channel_id = EXCLUDED.channel_id",
            self.platform.as_str(),
            user_id,
            channel_id,
        )
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn forget(&self, user_id: &str) -> anyhow::Result<()> {
        sqlx::query!(
            "DELETE FROM dm_channels WHERE platform = $1 AND user_id = $2",
            self.platform.as_str(),
            user_id,
        )
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
