//! Gateway shard ownership across instances: one session-level advisory lock per shard, held on a connection kept
//! for nothing else. The lock lives and dies with that connection, so a process that is killed, or cut off from the
//! database, frees its shards for a standby at once, and no two instances can believe they own the same shard.

use sqlx::{Connection as _, PgConnection, PgPool};

/// The class half of the two-key advisory lock ("CC" and 2); the shard number is the other half.
const SHARD_LOCK_CLASS: i32 = 0x4343_0002;

/// Takes shard locks for one instance.
#[derive(Debug, Clone)]
pub struct ShardLocks {
    pool: PgPool,
}

/// A shard this instance owns until the lock is dropped (its connection closes) or lost.
#[derive(Debug)]
pub struct ShardLock {
    conn: PgConnection,
    pub shard: u32,
}

impl ShardLocks {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    /// The shard's lock if no other instance holds it.
    pub async fn try_take(&self, shard: u32) -> anyhow::Result<Option<ShardLock>> {
        let id = i32::try_from(shard)?;
        // Out of the pool for good: the lock must not travel with a connection the pool hands to someone else.
        let mut conn = self.pool.acquire().await?.detach();
        let got = sqlx::query_scalar!(
            r#"SELECT pg_try_advisory_lock($1, $2) AS "got!""#,
            SHARD_LOCK_CLASS,
            id
        )
        .fetch_one(&mut conn)
        .await?;
        if got {
            Ok(Some(ShardLock { conn, shard }))
        } else {
            conn.close().await.ok();
            Ok(None)
        }
    }
}

impl ShardLock {
    /// Fails when the connection holding the lock is gone (and the lock with it).
    pub async fn check(&mut self) -> anyhow::Result<()> {
        self.conn.ping().await?;
        Ok(())
    }
}
