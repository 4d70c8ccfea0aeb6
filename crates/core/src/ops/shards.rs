//! Which gateway shards this instance owns and whether each is connected: written by the platform adapter, read by
//! `/healthz` and `/metrics`. The instance's single "gateway connected" flag is derived here, so the endpoint and the
//! alerts keep one meaning whether an instance runs one shard, several, or stands by.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

#[derive(Debug, Default)]
struct Board {
    total: u32,
    /// Owned shards and whether each is connected.
    owned: BTreeMap<u32, bool>,
    /// Every shard this instance may run has been tried once: before that, owning nothing means "starting", after
    /// it "standing by".
    settled: bool,
}

/// Shared between the adapter's shard tasks and the operator endpoint.
#[derive(Debug)]
pub struct GatewayShards {
    board: Mutex<Board>,
    /// The flag `Health` reads: settled, and every owned shard connected (a standby owning none is healthy).
    connected: Arc<AtomicBool>,
}

/// One shard as the endpoint shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShardView {
    pub shard: u32,
    pub connected: bool,
}

impl GatewayShards {
    pub fn new(connected: Arc<AtomicBool>) -> Self {
        Self {
            board: Mutex::new(Board::default()),
            connected,
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut Board) -> T) -> T {
        let mut board = self.board.lock().unwrap_or_else(|p| p.into_inner());
        let out = f(&mut board);
        let ok = board.settled && board.owned.values().all(|c| *c);
        self.connected.store(ok, Ordering::Relaxed);
        out
    }

    pub fn set_total(&self, total: u32) {
        self.with(|b| b.total = total);
    }

    /// Every shard this instance may run has been tried once.
    pub fn settle(&self) {
        self.with(|b| b.settled = true);
    }

    /// The instance took a shard's lock; it is not connected until READY.
    pub fn own(&self, shard: u32) {
        self.with(|b| {
            b.owned.insert(shard, false);
        });
    }

    /// The shard stopped here (shutdown, a lost lock, an error).
    pub fn release(&self, shard: u32) {
        self.with(|b| {
            b.owned.remove(&shard);
        });
    }

    pub fn set_connected(&self, shard: u32, connected: bool) {
        self.with(|b| {
            if let Some(c) = b.owned.get_mut(&shard) {
                *c = connected;
            }
        });
    }

    pub fn total(&self) -> u32 {
        self.with(|b| b.total)
    }

    pub fn owned(&self) -> Vec<ShardView> {
        self.with(|b| {
            b.owned
                .iter()
                .map(|(shard, connected)| ShardView {
                    shard: *shard,
                    connected: *connected,
                })
                .collect()
        })
    }

    pub fn is_settled(&self) -> bool {
        self.with(|b| b.settled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn healthy_only_when_settled_and_every_owned_shard_is_connected() {
        let flag = Arc::new(AtomicBool::new(true));
        let board = GatewayShards::new(flag.clone());
        board.set_total(3);
        assert!(!flag.load(Ordering::Relaxed), "not before the first round");
        board.own(1);
        board.settle();
        assert!(!flag.load(Ordering::Relaxed), "owned but not connected");
        board.set_connected(1, true);
        assert!(flag.load(Ordering::Relaxed));
        board.own(2);
        assert!(
            !flag.load(Ordering::Relaxed),
            "a second shard still connecting"
        );
        board.release(2);
        board.release(1);
        assert!(
            flag.load(Ordering::Relaxed),
            "a standby owning nothing is healthy"
        );
        board.set_connected(1, true);
        assert!(board.owned().is_empty(), "a released shard stays released");
    }
}
