//! [`ArtifactWatcher`]: a directory of `*.ptx` artifacts as the desired state of a
//! [`RuleRegistry`].
//!
//! For each rule id, the highest version among the valid files present is active: adding a
//! higher version reloads, removing the active file rolls back to the highest remaining one
//! that was active before (the registry keeps those staged; see `reconcile`). A bad file (one
//! that does not parse, or that the registry refuses: signature, capability, dependency, ABI,
//! version rules) is reported once, as [`WatchEvent::Rejected`] with the reason, and changes
//! nothing.
//!
//! **Writing into the directory**: write the file under a hidden name (`.name.tmp`) and
//! rename it into place (the `ringkernel` CLI does); hidden files are never read. A file
//! modified less than [`WatchOptions::settle`] ago is read once it has been quiet that long,
//! so a file written in place is not read half-written either.
//!
//! The watcher reacts to file-system notifications (`notify`) and rescans every
//! [`WatchOptions::poll_interval`] as well, so that it survives the directory disappearing
//! and reappearing (reported as [`WatchEvent::DirectoryMissing`] /
//! [`WatchEvent::DirectoryRestored`]) and events a platform drops. Every event goes to
//! [`ArtifactWatcher::events`] and to `tracing` (target `ringkernel::watch`).
//!
//! ```no_run
//! use ringkernel::watch::{ArtifactWatcher, WatchOptions};
//! # fn demo(rt: &ringkernel::Runtime) -> Result<(), Box<dyn std::error::Error>> {
//! let watcher = ArtifactWatcher::start("artifacts", rt.rule_registry().clone(), WatchOptions::default())?;
//! for event in watcher.events().iter() {
//!     println!("{event}");
//! }
//! # Ok(()) }
//! ```

mod reconcile;
mod scan;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use parking_lot::{Condvar, Mutex};

use crate::rules::RuleRegistry;

/// How the watcher works.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchOptions {
    /// Compute capability of the device the rules run on, for validation (`sm_90` by
    /// default, which every artifact for an older target runs on).
    pub device_cc: String,
    /// How long a file must be unmodified before it is read (100 ms by default).
    pub settle: Duration,
    /// Rescan at least this often (500 ms by default).
    pub poll_interval: Duration,
}

impl Default for WatchOptions {
    fn default() -> Self {
        Self {
            device_cc: "sm_90".into(),
            settle: Duration::from_millis(100),
            poll_interval: Duration::from_millis(500),
        }
    }
}

impl WatchOptions {
    /// Validates against this device capability.
    pub fn device_cc(mut self, device_cc: impl Into<String>) -> Self {
        self.device_cc = device_cc.into();
        self
    }

    /// Reads a file once it has been unmodified this long.
    pub fn settle(mut self, settle: Duration) -> Self {
        self.settle = settle;
        self
    }

    /// Rescans at least this often.
    pub fn poll_interval(mut self, poll_interval: Duration) -> Self {
        self.poll_interval = poll_interval;
        self
    }
}

/// What the watcher did or found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchEvent {
    /// A version became active (the first of its rule id, or a reload).
    Activated {
        /// Rule id.
        rule_id: String,
        /// The version now active.
        version: u64,
        /// The file it came from.
        path: PathBuf,
    },
    /// The active file went away (or went bad): an older staged version is active again.
    RolledBack {
        /// Rule id.
        rule_id: String,
        /// The version that was active.
        from: u64,
        /// The version now active.
        to: u64,
    },
    /// A file that is not a usable artifact; nothing changed. Reported once per content.
    Rejected {
        /// The file.
        path: PathBuf,
        /// Why, in one line.
        reason: String,
    },
    /// A valid version that cannot become active (reported once until the rule changes).
    NotActivated {
        /// Rule id.
        rule_id: String,
        /// The version.
        version: u64,
        /// Why.
        reason: String,
    },
    /// The directory cannot be read; the registry keeps its state.
    DirectoryMissing {
        /// The directory.
        dir: PathBuf,
        /// Why.
        reason: String,
    },
    /// The directory is readable again (and rescanned).
    DirectoryRestored {
        /// The directory.
        dir: PathBuf,
    },
}

impl fmt::Display for WatchEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WatchEvent::Activated { rule_id, version, path } => {
                write!(f, "activated {rule_id} v{version} from {}", path.display())
            }
            WatchEvent::RolledBack { rule_id, from, to } => {
                write!(f, "rolled {rule_id} back from v{from} to v{to}")
            }
            WatchEvent::Rejected { path, reason } => {
                write!(f, "rejected {}: {reason}", path.display())
            }
            WatchEvent::NotActivated { rule_id, version, reason } => {
                write!(f, "{rule_id} v{version} stays inactive: {reason}")
            }
            WatchEvent::DirectoryMissing { dir, reason } => {
                write!(f, "directory {} is missing ({reason}); nothing changes", dir.display())
            }
            WatchEvent::DirectoryRestored { dir } => {
                write!(f, "directory {} is back", dir.display())
            }
        }
    }
}

/// Why a watcher could not start.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    /// The worker thread could not be spawned.
    #[error("cannot start the watcher thread: {0}")]
    Thread(std::io::Error),
}

enum Control {
    Changed,
    Sync,
    Stop,
}

/// Scan counters: how many scans started and completed.
#[derive(Default)]
struct Progress {
    counts: Mutex<(u64, u64)>,
    done: Condvar,
}

/// Watches a directory of artifacts for a registry (see the module docs).
pub struct ArtifactWatcher {
    events: Receiver<WatchEvent>,
    control: Sender<Control>,
    progress: Arc<Progress>,
    thread: Option<JoinHandle<()>>,
}

impl ArtifactWatcher {
    /// Starts watching `dir` (which may not exist yet) on a thread of its own; the first scan
    /// runs at once.
    pub fn start(
        dir: impl Into<PathBuf>,
        registry: RuleRegistry,
        options: WatchOptions,
    ) -> Result<Self, WatchError> {
        let dir = dir.into();
        let (control, control_rx) = channel();
        let (events_tx, events) = channel();
        let progress = Arc::new(Progress::default());
        let worker = Worker {
            dir,
            options,
            control: control.clone(),
            progress: progress.clone(),
            events: events_tx,
        };
        let thread = std::thread::Builder::new()
            .name("ringkernel-watch".into())
            .spawn(move || worker.run(registry, control_rx))
            .map_err(WatchError::Thread)?;
        let _ = control.send(Control::Sync);
        Ok(Self { events, control, progress, thread: Some(thread) })
    }

    /// The events, in the order they happened.
    pub fn events(&self) -> &Receiver<WatchEvent> {
        &self.events
    }

    /// Waits until a scan that started after this call has finished (files still settling
    /// are read by a later one); false on timeout.
    pub fn sync(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut counts = self.progress.counts.lock();
        let needed = counts.0 + 1;
        let _ = self.control.send(Control::Sync);
        while counts.1 < needed {
            if self.progress.done.wait_until(&mut counts, deadline).timed_out() {
                return counts.1 >= needed;
            }
        }
        true
    }

    /// Stops the watcher and waits for its thread.
    pub fn stop(mut self) {
        self.shut_down();
    }

    fn shut_down(&mut self) {
        let _ = self.control.send(Control::Stop);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for ArtifactWatcher {
    fn drop(&mut self) {
        self.shut_down();
    }
}

struct Worker {
    dir: PathBuf,
    options: WatchOptions,
    control: Sender<Control>,
    progress: Arc<Progress>,
    events: Sender<WatchEvent>,
}

impl Worker {
    fn run(self, registry: RuleRegistry, control: Receiver<Control>) {
        let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_time().build()
        else {
            let reason = "cannot build the watcher's async runtime".to_owned();
            self.emit(WatchEvent::DirectoryMissing { dir: self.dir.clone(), reason });
            return;
        };
        let mut reconciler = reconcile::Reconciler::new(registry, self.options.device_cc.clone());
        let mut notifications = None;
        let mut missing = false;
        // Shortened to `settle` after a scan that skipped files still being written, so that
        // the next one reads them once they are quiet.
        let mut next_scan = self.options.poll_interval;
        loop {
            if notifications.is_none() {
                notifications = self.subscribe();
            }
            match control.recv_timeout(next_scan) {
                Ok(Control::Stop) | Err(RecvTimeoutError::Disconnected) => return,
                Ok(Control::Changed) => {
                    // Let a burst of changes finish before reading, but read at least once a
                    // poll interval however busy the directory is.
                    let wait = self.options.settle.min(self.options.poll_interval);
                    let latest = Instant::now() + self.options.poll_interval;
                    while Instant::now() < latest {
                        match control.recv_timeout(wait) {
                            Ok(Control::Changed) => {}
                            Ok(Control::Sync) | Err(RecvTimeoutError::Timeout) => break,
                            Ok(Control::Stop) | Err(RecvTimeoutError::Disconnected) => return,
                        }
                    }
                }
                Ok(Control::Sync) | Err(RecvTimeoutError::Timeout) => {}
            }
            next_scan = self.options.poll_interval;
            self.progress.counts.lock().0 += 1;
            match scan::scan(&self.dir) {
                Err(reason) => {
                    if !missing {
                        self.emit(WatchEvent::DirectoryMissing { dir: self.dir.clone(), reason });
                    }
                    missing = true;
                    notifications = None;
                }
                Ok(mut files) => {
                    if missing {
                        missing = false;
                        self.emit(WatchEvent::DirectoryRestored { dir: self.dir.clone() });
                    }
                    let settling = self.drop_settling(&mut files);
                    for event in runtime.block_on(reconciler.reconcile(&files)) {
                        self.emit(event);
                    }
                    if settling {
                        next_scan = self.options.settle.min(self.options.poll_interval);
                    }
                }
            }
            let mut counts = self.progress.counts.lock();
            counts.1 += 1;
            self.progress.done.notify_all();
        }
    }

    /// Removes the files modified less than `settle` ago; whether there were any.
    fn drop_settling(&self, files: &mut std::collections::BTreeMap<PathBuf, scan::Found>) -> bool {
        let now = SystemTime::now();
        let before = files.len();
        files.retain(|path, _| {
            std::fs::metadata(path)
                .and_then(|m| m.modified())
                .map(|modified| {
                    now.duration_since(modified).unwrap_or_default() >= self.options.settle
                })
                .unwrap_or(false)
        });
        files.len() != before
    }

    /// File-system notifications for the directory, when the platform has them.
    fn subscribe(&self) -> Option<notify::RecommendedWatcher> {
        use notify::Watcher as _;
        let control = self.control.clone();
        let mut watcher =
            notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
                if event.is_ok() {
                    let _ = control.send(Control::Changed);
                }
            })
            .ok()?;
        watcher.watch(Path::new(&self.dir), notify::RecursiveMode::NonRecursive).ok()?;
        Some(watcher)
    }

    fn emit(&self, event: WatchEvent) {
        match &event {
            WatchEvent::Rejected { .. }
            | WatchEvent::NotActivated { .. }
            | WatchEvent::DirectoryMissing { .. } => {
                tracing::warn!(target: "ringkernel::watch", "{event}")
            }
            _ => tracing::info!(target: "ringkernel::watch", "{event}"),
        }
        let _ = self.events.send(event);
    }
}
