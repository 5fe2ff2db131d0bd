//! Hybrid logical clock (HLC).
//!
//! An HLC timestamp is wall-clock time in milliseconds plus a logical counter, packed into one
//! `u64` as `physical_ms << 16 | logical`. Packing makes the clock a single atomic word:
//! every tick is one compare-and-swap to `max(wall << 16, last + 1[, remote + 1])`, so
//! timestamps are strictly increasing under any amount of concurrent use, and a counter that
//! fills its 16 bits carries into the millisecond part instead of wrapping. The same word is
//! what the persistent-kernel control block stores.
//!
//! Remote timestamps are merged with [`Hlc::update`], which refuses any that run more than
//! the configured maximum skew ahead of the local wall clock, so one bad peer cannot drag
//! every clock into the future.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const LOGICAL_BITS: u32 = 16;

/// A timestamp of a [`Hlc`]: packed time plus the id of the node that made it.
///
/// Ordered by time first, node id second, which gives a total order across nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct HlcTimestamp {
    /// `physical_ms << 16 | logical`.
    pub packed: u64,
    /// Id of the node whose clock issued the timestamp.
    pub node: u16,
}

impl HlcTimestamp {
    /// Largest representable physical time (48 bits of milliseconds, about 8900 years).
    pub const MAX_PHYSICAL_MS: u64 = u64::MAX >> LOGICAL_BITS;

    /// Builds a timestamp from its parts. `logical` above `u16::MAX` carries into
    /// `physical_ms`; a physical time above [`Self::MAX_PHYSICAL_MS`] is clamped to it.
    pub fn new(physical_ms: u64, logical: u32, node: u16) -> Self {
        let physical = physical_ms.min(Self::MAX_PHYSICAL_MS) << LOGICAL_BITS;
        Self { packed: physical.saturating_add(u64::from(logical)), node }
    }

    /// Wall-clock part, milliseconds since the Unix epoch.
    pub fn physical_ms(&self) -> u64 {
        self.packed >> LOGICAL_BITS
    }

    /// Logical counter within the millisecond.
    pub fn logical(&self) -> u16 {
        (self.packed & 0xffff) as u16
    }
}

/// Why a remote timestamp was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HlcError {
    /// The remote clock is further ahead of the local wall clock than allowed.
    #[error(
        "remote timestamp from node {node} is {ahead_ms} ms ahead of the local clock (at most {max_skew_ms} ms allowed)"
    )]
    ClockSkew {
        /// Node that sent the timestamp.
        node: u16,
        /// How far ahead it was.
        ahead_ms: u64,
        /// The configured bound.
        max_skew_ms: u64,
    },
}

type WallClock = Box<dyn Fn() -> u64 + Send + Sync>;

/// A hybrid logical clock shared by the actors of one node.
///
/// ```
/// use ringkernel::Hlc;
/// let clock = Hlc::new(1);
/// let a = clock.now();
/// let b = clock.now();
/// assert!(b > a);
/// ```
pub struct Hlc {
    node: u16,
    max_skew_ms: u64,
    last: AtomicU64,
    wall_ms: WallClock,
}

impl std::fmt::Debug for Hlc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hlc")
            .field("node", &self.node)
            .field("max_skew_ms", &self.max_skew_ms)
            .field("last", &self.last.load(Ordering::Relaxed))
            .finish()
    }
}

impl Hlc {
    /// Default bound on how far a remote clock may run ahead: 500 ms.
    pub const DEFAULT_MAX_SKEW: Duration = Duration::from_millis(500);

    /// A clock on the system wall clock with the default skew bound.
    pub fn new(node: u16) -> Self {
        Self::with_wall_clock(node, Self::DEFAULT_MAX_SKEW, system_wall_ms)
    }

    /// A clock reading milliseconds from `wall_ms` (for tests and simulated time).
    pub fn with_wall_clock(
        node: u16,
        max_skew: Duration,
        wall_ms: impl Fn() -> u64 + Send + Sync + 'static,
    ) -> Self {
        let max_skew_ms = u64::try_from(max_skew.as_millis()).unwrap_or(u64::MAX);
        Self { node, max_skew_ms, last: AtomicU64::new(0), wall_ms: Box::new(wall_ms) }
    }

    /// Id of this node.
    pub fn node(&self) -> u16 {
        self.node
    }

    /// Issues a timestamp for a local event or a send. Strictly greater than every earlier
    /// timestamp of this clock, from any thread.
    pub fn now(&self) -> HlcTimestamp {
        let wall = (self.wall_ms)() << LOGICAL_BITS;
        self.advance(|last| wall.max(last.saturating_add(1)))
    }

    /// Merges a received timestamp and issues one greater than both it and every earlier
    /// timestamp of this clock. Refuses (and leaves the clock as it was) a timestamp more than
    /// the maximum skew ahead of the local wall clock.
    pub fn update(&self, remote: HlcTimestamp) -> Result<HlcTimestamp, HlcError> {
        let wall_ms = (self.wall_ms)();
        let ahead_ms = remote.physical_ms().saturating_sub(wall_ms);
        if ahead_ms > self.max_skew_ms {
            return Err(HlcError::ClockSkew {
                node: remote.node,
                ahead_ms,
                max_skew_ms: self.max_skew_ms,
            });
        }
        let wall = wall_ms << LOGICAL_BITS;
        Ok(self
            .advance(|last| wall.max(last.saturating_add(1)).max(remote.packed.saturating_add(1))))
    }

    /// The latest timestamp issued (packed), without ticking.
    pub fn peek(&self) -> u64 {
        self.last.load(Ordering::Acquire)
    }

    fn advance(&self, next: impl Fn(u64) -> u64) -> HlcTimestamp {
        // AcqRel: a timestamp handed out after this CAS is ordered after every earlier one,
        // and readers that see it also see what the issuing thread wrote before ticking.
        let mut last = self.last.load(Ordering::Acquire);
        loop {
            let candidate = next(last);
            match self.last.compare_exchange_weak(
                last,
                candidate,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    return HlcTimestamp { packed: candidate, node: self.node };
                }
                Err(seen) => last = seen,
            }
        }
    }
}

fn system_wall_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX >> LOGICAL_BITS))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::AtomicU64;

    fn fixed_clock(ms: Arc<AtomicU64>) -> Hlc {
        Hlc::with_wall_clock(1, Duration::from_millis(100), move || ms.load(Ordering::Relaxed))
    }

    #[test]
    fn ticks_within_one_millisecond_use_the_logical_counter() {
        let clock = fixed_clock(Arc::new(AtomicU64::new(1_000)));
        let a = clock.now();
        let b = clock.now();
        assert_eq!((a.physical_ms(), a.logical()), (1_000, 0));
        assert_eq!((b.physical_ms(), b.logical()), (1_000, 1));
    }

    #[test]
    fn stays_monotonic_when_the_wall_clock_goes_backwards() {
        let ms = Arc::new(AtomicU64::new(5_000));
        let clock = fixed_clock(ms.clone());
        let before = clock.now();
        ms.store(4_000, Ordering::Relaxed);
        let after = clock.now();
        assert!(after > before);
        assert_eq!(after.physical_ms(), 5_000);
    }

    #[test]
    fn logical_overflow_carries_into_physical() {
        let clock = fixed_clock(Arc::new(AtomicU64::new(7)));
        let mut last = clock.now();
        for _ in 0..70_000 {
            let next = clock.now();
            assert!(next > last);
            last = next;
        }
        assert_eq!(last.physical_ms(), 8);
    }

    #[test]
    fn update_merges_a_remote_timestamp_ahead_of_us() {
        let clock = fixed_clock(Arc::new(AtomicU64::new(1_000)));
        let remote = HlcTimestamp::new(1_050, 9, 2);
        let merged = clock.update(remote).unwrap();
        assert!(merged.packed > remote.packed);
        assert_eq!((merged.physical_ms(), merged.logical()), (1_050, 10));
        assert!(clock.now() > merged);
    }

    #[test]
    fn update_refuses_excess_skew_and_leaves_the_clock_alone() {
        let clock = fixed_clock(Arc::new(AtomicU64::new(1_000)));
        let before = clock.peek();
        let err = clock.update(HlcTimestamp::new(1_101, 0, 3)).unwrap_err();
        assert_eq!(err, HlcError::ClockSkew { node: 3, ahead_ms: 101, max_skew_ms: 100 });
        assert_eq!(clock.peek(), before);
        assert!(clock.update(HlcTimestamp::new(1_100, 0, 3)).is_ok());
    }

    #[test]
    fn hostile_timestamps_neither_panic_nor_wrap() {
        let clock = Hlc::with_wall_clock(1, Duration::MAX, || 1_000);
        let merged = clock.update(HlcTimestamp { packed: u64::MAX, node: 2 }).unwrap();
        assert_eq!(merged.packed, u64::MAX);
        assert_eq!(clock.now().packed, u64::MAX, "saturates instead of wrapping to zero");
        let clamped = HlcTimestamp::new(u64::MAX, 5, 0);
        assert_eq!((clamped.physical_ms(), clamped.logical()), (HlcTimestamp::MAX_PHYSICAL_MS, 5));
    }

    #[test]
    fn concurrent_ticks_are_unique_and_increasing_per_thread() {
        let clock = Arc::new(Hlc::new(0));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let clock = clock.clone();
                std::thread::spawn(move || {
                    (0..20_000).map(|_| clock.now().packed).collect::<Vec<_>>()
                })
            })
            .collect();
        let mut all = Vec::new();
        for t in threads {
            let stamps = t.join().unwrap();
            assert!(stamps.windows(2).all(|w| w[0] < w[1]), "per-thread order broken");
            all.extend(stamps);
        }
        let total = all.len();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), total, "two threads got the same timestamp");
    }
}
