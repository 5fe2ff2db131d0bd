//! What the backend benches share: paced traffic through an actor while something else
//! (a swap loop) is measured.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use ringkernel::{KernelHandle, RingMessage};

/// A sender thread streaming bursts of 64 messages about every 60 µs (about a million a
/// second at most: load without oversubscribing a 2-core machine with spinning threads) and
/// a receiver thread draining the responses. With `loaded == false` nothing is sent.
pub struct PacedTraffic {
    stop: Arc<AtomicBool>,
    sender: JoinHandle<u64>,
    receiver: JoinHandle<u64>,
}

impl PacedTraffic {
    pub fn start<M, R>(actor: &KernelHandle<M, R>, message: M, loaded: bool) -> Self
    where
        M: RingMessage + Copy + Send + 'static,
        R: RingMessage + Send + 'static,
    {
        let stop = Arc::new(AtomicBool::new(false));
        let sender = {
            let (actor, stop) = (actor.clone(), stop.clone());
            std::thread::spawn(move || {
                let burst = [message; 64];
                let mut sent = 0u64;
                while loaded && !stop.load(Ordering::Relaxed) {
                    let mut done = 0;
                    while done < burst.len() {
                        done += actor.send_batch(&burst[done..]).unwrap();
                    }
                    sent += burst.len() as u64;
                    std::thread::sleep(Duration::from_micros(60));
                }
                sent
            })
        };
        let receiver = {
            let (actor, stop) = (actor.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut got = 0u64;
                let mut batch = Vec::with_capacity(256);
                loop {
                    batch.clear();
                    let n = actor.receive_batch(&mut batch, 256);
                    got += n as u64;
                    if n == 0 {
                        if stop.load(Ordering::Relaxed) && actor.metrics().queued == 0 {
                            std::thread::sleep(Duration::from_millis(5));
                            batch.clear();
                            got += actor.receive_batch(&mut batch, usize::MAX) as u64;
                            return got;
                        }
                        std::thread::sleep(Duration::from_micros(30));
                    }
                }
            })
        };
        PacedTraffic { stop, sender, receiver }
    }

    /// Stops the sender, drains the rest; returns (sent, received).
    pub fn finish(self) -> (u64, u64) {
        self.stop.store(true, Ordering::Relaxed);
        let sent = self.sender.join().unwrap();
        (sent, self.receiver.join().unwrap())
    }
}
