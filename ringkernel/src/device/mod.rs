//! The device layer: everything the GPU path needs from a device, behind one trait.
//!
//! A persistent-kernel actor needs little from a device: host memory that both sides address
//! (the control block and the rings), device memory (the actor's state), modules loaded from
//! PTX text, entry lookup, an asynchronous launch with raw `u64` parameters, a completion
//! query and unloading. [`Device`] is exactly that, so the actor logic is written once and
//! runs on [`EmulatedDevice`] (the PTX virtual machine `ringkernel-ptx`, feature `emulator`,
//! on by default: any machine) and on a CUDA device.
//!
//! Every failure (no driver, no device, a JIT error, a launch that faulted) is a
//! [`DeviceError`] carrying the device's own message; nothing here panics.

#[cfg(feature = "cuda")]
mod cuda;
#[cfg(feature = "emulator")]
mod emulated;

#[cfg(feature = "cuda")]
pub use cuda::CudaDevice;

#[cfg(feature = "emulator")]
pub use emulated::EmulatedDevice;

use std::ptr::NonNull;

/// Why a device operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeviceError {
    /// No driver (for CUDA: no libcuda) on this machine.
    #[error("no driver: {0}")]
    NoDriver(String),
    /// A driver but no usable device.
    #[error("no device: {0}")]
    NoDevice(String),
    /// The PTX did not load (parse or JIT error), with the device's message.
    #[error("module did not load: {0}")]
    Load(String),
    /// The module has no entry of that name.
    #[error("no entry `{name}` in the module")]
    NoFunction {
        /// The entry asked for.
        name: String,
    },
    /// A handle that this device did not give out, or that was already released.
    #[error("unknown {0} handle")]
    UnknownHandle(&'static str),
    /// Memory could not be allocated, freed or copied.
    #[error("memory: {0}")]
    Memory(String),
    /// The launch was refused (bad parameters or shape).
    #[error("launch refused: {0}")]
    Launch(String),
    /// The kernel faulted while running (an illegal address, a trap...).
    #[error("kernel faulted: {0}")]
    Fault(String),
}

/// A loaded module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ModuleId(pub(crate) u64);

/// An entry of a loaded module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FunctionId {
    pub(crate) module: ModuleId,
    pub(crate) index: u64,
}

/// A launch in flight or finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LaunchId(pub(crate) u64);

/// What [`Device::poll`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LaunchState {
    /// Still running.
    Running,
    /// Ended normally.
    Finished,
}

/// The launch shape: CTAs, threads per CTA, dynamic shared memory per CTA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LaunchShape {
    /// CTAs in the grid (x, y, z).
    pub grid: [u32; 3],
    /// Threads per CTA (x, y, z).
    pub block: [u32; 3],
    /// Bytes of dynamic shared memory per CTA.
    pub shared_bytes: u32,
}

impl LaunchShape {
    /// `grid` CTAs of `block` threads along x.
    pub fn linear(grid: u32, block: u32) -> Self {
        LaunchShape { grid: [grid, 1, 1], block: [block, 1, 1], shared_bytes: 0 }
    }
}

/// Host memory the device addresses too (pinned and mapped on CUDA), zero-filled, 64-byte
/// aligned. Owned: dropping it unmaps and frees it, so it must outlive every kernel that uses
/// it (the actor keeps it with the kernel's handle).
pub struct MappedMemory {
    host: NonNull<u8>,
    len: usize,
    device_address: u64,
    release: Option<Box<dyn FnOnce() + Send + Sync>>,
}

// SAFETY: the memory is plain bytes owned by this value; sharing it between threads is as
// safe as the accesses made through `host_ptr`, which callers make atomically or ordered by
// atomics (the ring protocol), as the device does.
unsafe impl Send for MappedMemory {}
// SAFETY: see `Send`; `&MappedMemory` only hands out the pointer.
unsafe impl Sync for MappedMemory {}

impl MappedMemory {
    /// Wraps memory a device mapped. `release` unmaps and frees it, once, on drop.
    ///
    /// # Safety
    /// `host` must be valid for reads and writes of `len` bytes, 64-byte aligned and
    /// zero-filled, until `release` runs; `device_address` must be where the device sees it.
    pub unsafe fn from_raw_parts(
        host: NonNull<u8>,
        len: usize,
        device_address: u64,
        release: Box<dyn FnOnce() + Send + Sync>,
    ) -> Self {
        MappedMemory { host, len, device_address, release: Some(release) }
    }

    /// The host's view: valid for `len()` bytes while `self` lives.
    pub fn host_ptr(&self) -> *mut u8 {
        self.host.as_ptr()
    }

    /// The device's address of the first byte.
    pub fn device_address(&self) -> u64 {
        self.device_address
    }

    /// Size in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the mapping is empty (never: devices refuse empty mappings).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl Drop for MappedMemory {
    fn drop(&mut self) {
        if let Some(release) = self.release.take() {
            release();
        }
    }
}

impl std::fmt::Debug for MappedMemory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MappedMemory")
            .field("len", &self.len)
            .field("device_address", &format_args!("{:#x}", self.device_address))
            .finish()
    }
}

/// What the GPU path needs from a device (see the module docs).
///
/// Implementations are shared between threads: the actor's ring threads, the swap backend
/// pre-staging modules, and the thread waiting for a kernel to end.
pub trait Device: Send + Sync + 'static {
    /// A human-readable name ("PTX VM", "NVIDIA H200").
    fn name(&self) -> String;

    /// `len` bytes of zero-filled host memory that kernels on this device address directly.
    fn alloc_mapped(&self, len: usize) -> Result<MappedMemory, DeviceError>;

    /// `len` bytes of zero-filled device memory; returns its device address.
    fn alloc(&self, len: usize) -> Result<u64, DeviceError>;

    /// Frees device memory from [`Device::alloc`].
    fn free(&self, address: u64) -> Result<(), DeviceError>;

    /// Copies host bytes to device memory.
    fn write(&self, address: u64, bytes: &[u8]) -> Result<(), DeviceError>;

    /// Copies device memory to host bytes.
    fn read(&self, address: u64, out: &mut [u8]) -> Result<(), DeviceError>;

    /// Loads a module from PTX text (parsing, JIT).
    fn load_module(&self, ptx: &str) -> Result<ModuleId, DeviceError>;

    /// Finds an entry of a loaded module.
    fn function(&self, module: ModuleId, name: &str) -> Result<FunctionId, DeviceError>;

    /// Starts an entry and returns at once. `params` are the entry's parameters in order, as
    /// raw 64-bit values (narrower parameters take the low bytes).
    fn launch(
        &self,
        function: FunctionId,
        shape: LaunchShape,
        params: &[u64],
    ) -> Result<LaunchId, DeviceError>;

    /// Whether a launch has ended; a launch that faulted is an error. A finished launch can
    /// be polled again (it stays finished) until [`Device::wait`] releases it.
    fn poll(&self, launch: LaunchId) -> Result<LaunchState, DeviceError>;

    /// Blocks until the launch ends and releases its handle.
    fn wait(&self, launch: LaunchId) -> Result<(), DeviceError>;

    /// Unloads a module. Launches already running keep what they need.
    fn unload(&self, module: ModuleId) -> Result<(), DeviceError>;
}
