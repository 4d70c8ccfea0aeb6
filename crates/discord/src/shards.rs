//! Gateway shards across instances. Every instance may run some shards (`discord.shards`) of the bot's total
//! (`discord.shard_count`); it owns a shard while it holds that shard's lock in the database, and stands by for the
//! others, so a shard whose owner dies is taken over within one poll. Each owned shard is its own serenity client
//! (`start_shard`), so losing one lock stops exactly that shard.
//!
//! Discord's rules kept here: identifies wait for a slot in the bucket `shard % max_concurrency`, one per 5 s,
//! shared by every instance through the database's pacing lanes; only the owner of shard 0 registers commands (DMs
//! arrive on shard 0 too). serenity re-identifies by itself after an invalid session, through its own queue, which
//! cannot be coordinated across processes: rare, and Discord answers a too-early identify with another invalid
//! session, which serenity waits out.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::Context as _;
use tokio::sync::watch;
use tokio::task::JoinSet;

use career_circle_core::app::App;
use career_circle_core::chat::pacing::{Lane, Pacer};
use career_circle_core::ops::shards::GatewayShards;
use career_circle_core::settings::{ShardCount, ShardRange};
use career_circle_core::store::shard_locks::{ShardLock, ShardLocks};

use crate::{Connection, Handler, Refused, chat_port, faults, intents, refused};

/// Discord's identify window is one identify per bucket per 5 s. The slot is booked before the client connects,
/// and the identify itself follows a moment later (longer on a busy machine): a second of margin keeps two
/// identifies 5 s apart even when the first one's connection was the slower.
const IDENTIFY_EVERY: Duration = Duration::from_secs(6);
/// How often a standby looks for a free shard, and an owner checks that its lock still holds.
const POLL: Duration = Duration::from_secs(1);

/// What `run` needs besides the connection and the use cases.
pub struct Sharding {
    pub count: ShardCount,
    pub shards: ShardRange,
    pub locks: ShardLocks,
    /// The database's pacing lanes: the identify slots every instance shares.
    pub pacer: Arc<dyn Pacer>,
    pub board: Arc<GatewayShards>,
}

/// The total and the identify buckets, from settings and `GET /gateway/bot`.
async fn layout(http: &serenity::http::Http, count: ShardCount) -> anyhow::Result<(u32, u64)> {
    let asked = http.get_bot_gateway().await;
    match (count, asked) {
        (ShardCount::Fixed(n), Ok(g)) => Ok((n, g.session_start_limit.max_concurrency.max(1))),
        // Without Discord's answer a fixed count still works; one identify at a time is always allowed.
        (ShardCount::Fixed(n), Err(e)) => {
            tracing::warn!(error = %e, "GET /gateway/bot failed; identifying one shard at a time");
            Ok((n, 1))
        }
        (ShardCount::Auto, Ok(g)) => Ok((
            g.shards.max(1),
            g.session_start_limit.max_concurrency.max(1),
        )),
        (ShardCount::Auto, Err(e)) => {
            Err(anyhow::Error::new(e).context("asking Discord how many shards to run"))
        }
    }
}

/// Runs this instance's share of the gateway until `shutdown` turns true. Fails only for what an operator must
/// fix (a refused token or intents) or a database that cannot be reached.
pub async fn run(
    connection: Connection,
    app: App,
    chat: Arc<chat_port::DiscordChat>,
    sharding: Sharding,
    shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let http = connection.http()?;
    crate::check_token(&http).await?;
    let (total, buckets) = layout(&http, sharding.count).await?;
    let mine = sharding.shards.within(total);
    sharding.board.set_total(total);
    if mine.is_empty() {
        anyhow::bail!(
            "discord.shards names no shard of the {total} the bot runs (discord.shard_count): nothing to do"
        );
    }
    tracing::info!(total, shards = ?mine, buckets, "gateway: taking the shards that are free");
    let sharding = Arc::new(sharding);
    let tried = Arc::new(AtomicUsize::new(0));
    let mut tasks = JoinSet::new();
    for shard in mine.iter().copied() {
        let one = Shard {
            shard,
            total,
            bucket: u64::from(shard) % buckets,
            connection: connection.clone(),
            app: app.clone(),
            chat: chat.clone(),
            sharding: sharding.clone(),
            tried: tried.clone(),
            candidates: mine.len(),
        };
        tasks.spawn(one.serve(shutdown.clone()));
    }
    let mut failure = None;
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                failure.get_or_insert(e);
                tasks.abort_all();
            }
            Err(e) if e.is_cancelled() => {}
            Err(e) => {
                failure.get_or_insert(anyhow::anyhow!("a shard task panicked: {e}"));
                tasks.abort_all();
            }
        }
    }
    failure.map_or(Ok(()), Err)
}

struct Shard {
    shard: u32,
    total: u32,
    bucket: u64,
    connection: Connection,
    app: App,
    chat: Arc<chat_port::DiscordChat>,
    sharding: Arc<Sharding>,
    tried: Arc<AtomicUsize>,
    candidates: usize,
}

impl Shard {
    async fn serve(self, mut shutdown: watch::Receiver<bool>) -> anyhow::Result<()> {
        let mut first = true;
        while !*shutdown.borrow() {
            let lock = self.sharding.locks.try_take(self.shard).await;
            if std::mem::take(&mut first)
                && self.tried.fetch_add(1, Ordering::SeqCst) + 1 == self.candidates
            {
                self.sharding.board.settle();
            }
            match lock {
                Ok(Some(lock)) => self.own(lock, &mut shutdown).await?,
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(shard = self.shard, error = %e, "cannot ask for the shard's lock")
                }
            }
            tokio::select! {
                () = tokio::time::sleep(POLL) => {}
                _ = shutdown.changed() => {}
            }
        }
        Ok(())
    }

    /// Runs the shard while the lock holds; returns when it is lost, the shard stops, or on shutdown.
    async fn own(
        &self,
        mut lock: ShardLock,
        shutdown: &mut watch::Receiver<bool>,
    ) -> anyhow::Result<()> {
        let (shard, board) = (self.shard, &self.sharding.board);
        board.own(shard);
        tracing::info!(
            shard,
            total = self.total,
            "gateway: this instance owns the shard"
        );
        let result = self.connect(&mut lock, shutdown).await;
        board.release(shard);
        // Dropping the lock closes its connection, which frees the shard for another instance.
        drop(lock);
        result
    }

    async fn connect(
        &self,
        lock: &mut ShardLock,
        shutdown: &mut watch::Receiver<bool>,
    ) -> anyhow::Result<()> {
        let shard = self.shard;
        let lane = Lane {
            key: format!("discord:identify:{}", self.bucket),
            every: IDENTIFY_EVERY,
        };
        self.sharding
            .pacer
            .pace(std::slice::from_ref(&lane))
            .await
            .context("waiting for an identify slot")?;
        let handler = Handler::for_shard(
            self.app.clone(),
            self.chat.clone(),
            shard,
            self.sharding.board.clone(),
            self.connection.register,
            self.connection.dev_guild_id,
        );
        let mut client =
            serenity::all::ClientBuilder::new_with_http(self.connection.http()?, intents())
                .framework(handler)
                .await
                .context("building the Discord client")?;
        let manager = client.shard_manager.clone();
        let outcome = tokio::select! {
            r = client.start_shard(shard, self.total) => Some(r),
            e = lost(lock) => {
                tracing::error!(shard, error = %e, "gateway: lost the shard's lock with the database connection; stopping the shard");
                None
            }
            _ = shutdown.changed() => None,
        };
        manager.shutdown_all().await;
        match outcome {
            None | Some(Ok(())) => Ok(()),
            Some(Err(serenity::Error::Gateway(e))) if refused(&e).is_some() => {
                let fix = refused(&e).unwrap_or(faults::FIX_TOKEN);
                tracing::error!(shard, error = %e, fix, "Discord refused the gateway connection");
                Err(Refused {
                    reason: e.to_string(),
                    fix: fix.to_owned(),
                }
                .into())
            }
            Some(Err(e)) => {
                // Given up by serenity (it retries by itself first): free the shard and try again after a poll.
                tracing::warn!(shard, error = %e, "gateway: the shard stopped; trying again");
                Ok(())
            }
        }
    }
}

/// Resolves when the lock's connection fails.
async fn lost(lock: &mut ShardLock) -> anyhow::Error {
    loop {
        tokio::time::sleep(POLL).await;
        if let Err(e) = lock.check().await {
            return e;
        }
    }
}
