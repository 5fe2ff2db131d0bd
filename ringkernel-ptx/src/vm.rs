//! The public machine: memory, module instances and launches.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use parking_lot::Mutex;

use crate::error::{Fault, MemoryError};
use crate::memory::AddressSpace;
use crate::module::{ConstValue, Module};
use crate::sched::{self, Plan};

/// A kernel argument, in the order of the entry's `.param` list.
#[derive(Clone, Debug, PartialEq)]
pub enum Arg {
    U8(u8),
    U16(u16),
    U32(u32),
    U64(u64),
    F32(f32),
    F64(f64),
    /// Raw bytes for a `.param .align N .b8 name[len]` (a struct passed by value).
    Bytes(Vec<u8>),
}

impl Arg {
    fn bytes(&self) -> Vec<u8> {
        match self {
            Arg::U8(v) => vec![*v],
            Arg::U16(v) => v.to_le_bytes().to_vec(),
            Arg::U32(v) => v.to_le_bytes().to_vec(),
            Arg::U64(v) => v.to_le_bytes().to_vec(),
            Arg::F32(v) => v.to_le_bytes().to_vec(),
            Arg::F64(v) => v.to_le_bytes().to_vec(),
            Arg::Bytes(b) => b.clone(),
        }
    }
}

/// The launch shape: CTAs in the grid, threads per CTA, dynamic shared memory per CTA.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dims {
    pub grid: [u32; 3],
    pub block: [u32; 3],
    pub shared_bytes: u32,
}

impl Dims {
    /// A one-dimensional launch: `grid` CTAs of `block` threads, no dynamic shared memory.
    pub fn linear(grid: u32, block: u32) -> Dims {
        Dims { grid: [grid, 1, 1], block: [block, 1, 1], shared_bytes: 0 }
    }
}

/// What a completed launch did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LaunchStats {
    /// PTX instructions executed over all threads (including those skipped by a guard).
    pub instructions: u64,
    pub threads: u64,
    pub ctas: u64,
    pub elapsed: Duration,
}

/// Largest CTA (threads) and largest shared memory per CTA (bytes) a launch may ask for:
/// the limits of current NVIDIA GPUs.
pub const MAX_THREADS_PER_BLOCK: u32 = 1024;
pub const MAX_SHARED_BYTES: u32 = 227 * 1024;

/// Most thread state (registers, param and local areas) one block may need.
pub const MAX_BLOCK_STATE_BYTES: u64 = 1 << 31;

/// A module placed in one VM: its variables' addresses and the register template.
struct Instance {
    template: Vec<u64>,
    variables: Vec<u64>,
}

struct Inner {
    space: AddressSpace,
    instances: Mutex<HashMap<u64, Arc<Instance>>>,
    /// 0: no budget.
    budget: AtomicU64,
    workers: AtomicU64,
    /// What kernels wrote with device-side `printf`.
    output: Mutex<String>,
}

/// A PTX virtual machine: one sandboxed device address space that any number of modules and
/// launches share. Cheap to clone (clones share the machine).
#[derive(Clone)]
pub struct Vm {
    inner: Arc<Inner>,
}

impl Default for Vm {
    fn default() -> Self {
        Vm::new()
    }
}

impl std::fmt::Debug for Vm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vm").finish_non_exhaustive()
    }
}

impl Vm {
    pub fn new() -> Vm {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        Vm {
            inner: Arc::new(Inner {
                space: AddressSpace::new(),
                instances: Mutex::new(HashMap::new()),
                budget: AtomicU64::new(0),
                workers: AtomicU64::new(cores as u64),
                output: Mutex::new(String::new()),
            }),
        }
    }

    /// Allocates `len` zero-filled bytes of device memory; the address is 256-aligned.
    pub fn alloc(&self, len: usize) -> Result<u64, MemoryError> {
        self.inner.space.alloc(len as u64)
    }

    /// Frees an allocation (launches still running keep it alive until they finish).
    pub fn free(&self, address: u64) -> Result<(), MemoryError> {
        self.inner.space.remove(address)
    }

    /// Copies `bytes` to device memory at `address` (inside one allocation or mapped range).
    pub fn write(&self, address: u64, bytes: &[u8]) -> Result<(), MemoryError> {
        self.inner.space.write(address, bytes)
    }

    /// Copies device memory at `address` into `out`.
    pub fn read(&self, address: u64, out: &mut [u8]) -> Result<(), MemoryError> {
        self.inner.space.read(address, out)
    }

    /// Maps `len` bytes of host memory into the device address space and returns the device
    /// address of its first byte: kernels then read and write that memory directly, while the
    /// host keeps using it (the rings of a persistent kernel).
    ///
    /// # Safety
    /// `ptr` must be valid for reads and writes of `len` bytes, 8-byte aligned, until
    /// [`Vm::unmap`] has returned **and** every launch that could access it has finished.
    /// While a kernel may run, every host access to bytes the kernel also touches must be
    /// atomic, or ordered before/after the kernel's accesses by atomics (the ABI rings'
    /// acquire/release protocol does exactly that): the VM's accesses are atomic.
    pub unsafe fn map_host(&self, ptr: *mut u8, len: usize) -> Result<u64, MemoryError> {
        // SAFETY: forwarded contract.
        unsafe { self.inner.space.map_host(ptr, len as u64) }
    }

    /// Removes a mapped host range (or frees an allocation).
    pub fn unmap(&self, address: u64) -> Result<(), MemoryError> {
        self.inner.space.remove(address)
    }

    /// Caps each launch at `budget` executed instructions (`None`: no cap). A launch that
    /// exceeds it stops with [`Fault::BudgetExhausted`].
    pub fn set_instruction_budget(&self, budget: Option<u64>) {
        self.inner.budget.store(budget.unwrap_or(0), Ordering::Relaxed);
    }

    /// Takes what kernels printed with device-side `printf` (CUDA's `vprintf`) since the last
    /// call. Lines from different threads appear whole, in the order the calls ran.
    pub fn take_output(&self) -> String {
        std::mem::take(&mut *self.inner.output.lock())
    }

    /// Number of host threads a batch launch spreads its CTAs over (default: the cores).
    pub fn set_workers(&self, workers: usize) {
        self.inner.workers.store(workers.max(1) as u64, Ordering::Relaxed);
    }

    /// Releases what this VM holds for `module`: its `.global`/`.const` variables and its
    /// register template. Launches still running keep what they use; a later launch of the
    /// module places its variables afresh (their values start from the initialisers again).
    /// Returns whether the module had been placed in this VM.
    pub fn forget(&self, module: &Module) -> bool {
        let Some(instance) = self.inner.instances.lock().remove(&module.data.id) else {
            return false;
        };
        for &address in &instance.variables {
            let _ = self.inner.space.remove(address);
        }
        true
    }

    /// Device address of a module-level `.global` or `.const` variable in this VM.
    pub fn global_address(&self, module: &Module, name: &str) -> Result<Option<u64>, Fault> {
        let instance = self.instance(module)?;
        Ok(module.data.variables.iter().position(|v| v.name == name).map(|i| instance.variables[i]))
    }

    fn instance(&self, module: &Module) -> Result<Arc<Instance>, Fault> {
        let mut instances = self.inner.instances.lock();
        if let Some(i) = instances.get(&module.data.id) {
            return Ok(i.clone());
        }
        let m = &module.data;
        let mut variables = Vec::with_capacity(m.variables.len());
        for v in &m.variables {
            let address = self.inner.space.alloc(v.size)?;
            self.inner.space.write(address, &v.init)?;
            variables.push(address);
        }
        let mut template = vec![0u64; m.register_count as usize];
        for (slot, value) in &m.constants {
            template[*slot as usize] = match *value {
                ConstValue::Bits(b) => b,
                ConstValue::GlobalAddress { var, offset } => {
                    variables[var as usize].wrapping_add(offset as u64)
                }
                ConstValue::DynamicShared { offset } => offset as u64,
            };
        }
        let instance = Arc::new(Instance { template, variables });
        instances.insert(m.id, instance.clone());
        Ok(instance)
    }

    fn plan_parts(
        &self,
        module: &Module,
        entry: &str,
        dims: Dims,
        args: &[Arg],
    ) -> Result<(u32, Vec<u64>), Fault> {
        let m = &module.data;
        let Some(index) = m.functions.iter().position(|f| f.is_entry && f.name == entry) else {
            return Err(Fault::NoSuchEntry {
                entry: entry.into(),
                available: module.entries().iter().map(|s| s.to_string()).collect(),
            });
        };
        let f = &m.functions[index];
        let bad_dims = |detail: String| Err(Fault::BadDims { entry: entry.into(), detail });
        let threads = dims.block.iter().map(|&b| u64::from(b)).product::<u64>();
        if dims.grid.contains(&0) || dims.block.contains(&0) {
            return bad_dims(format!(
                "grid {:?} and block {:?} must not contain 0",
                dims.grid, dims.block
            ));
        }
        if threads > u64::from(MAX_THREADS_PER_BLOCK) {
            return bad_dims(format!(
                "{threads} threads per block (at most {MAX_THREADS_PER_BLOCK})"
            ));
        }
        let shared = u64::from(m.shared_static_size) + u64::from(dims.shared_bytes);
        if shared > u64::from(MAX_SHARED_BYTES) {
            return bad_dims(format!(
                "{shared} bytes of shared memory per block (at most {MAX_SHARED_BYTES})"
            ));
        }
        // Every thread of a block holds the module's registers, param and local areas.
        let per_thread =
            u64::from(m.register_count) * 8 + u64::from(m.param_size) + u64::from(m.local_size);
        if per_thread.saturating_mul(threads) > MAX_BLOCK_STATE_BYTES {
            return bad_dims(format!(
                "{threads} threads of {per_thread} bytes of state each exceed {MAX_BLOCK_STATE_BYTES} bytes per block"
            ));
        }
        if args.len() != f.params.len() {
            return Err(Fault::BadArguments {
                entry: entry.into(),
                detail: format!(
                    "{} arguments given, the entry takes {}",
                    args.len(),
                    f.params.len()
                ),
            });
        }
        let mut params = vec![0u8; (m.param_size as usize).div_ceil(8) * 8];
        for (i, (arg, slot)) in args.iter().zip(&f.params).enumerate() {
            let bytes = arg.bytes();
            if bytes.len() != slot.size as usize {
                return Err(Fault::BadArguments {
                    entry: entry.into(),
                    detail: format!(
                        "argument {i} is {} bytes, the parameter is {} bytes",
                        bytes.len(),
                        slot.size
                    ),
                });
            }
            params[slot.offset as usize..slot.offset as usize + bytes.len()]
                .copy_from_slice(&bytes);
        }
        let words = params
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")))
            .collect();
        Ok((index as u32, words))
    }

    /// Runs `entry` to completion: every CTA, every thread. Faults are values; the VM stays
    /// usable after any of them.
    pub fn launch(
        &self,
        module: &Module,
        entry: &str,
        dims: Dims,
        args: &[Arg],
    ) -> Result<LaunchStats, Fault> {
        let prepared = self.prepare(module, entry, dims, args)?;
        self.run(module, &prepared, dims, &AtomicBool::new(false))
    }

    /// Checks a launch and places the module: everything that can fail before a kernel runs.
    fn prepare(
        &self,
        module: &Module,
        entry: &str,
        dims: Dims,
        args: &[Arg],
    ) -> Result<Prepared, Fault> {
        let (entry, params) = self.plan_parts(module, entry, dims, args)?;
        Ok(Prepared { entry, params, instance: self.instance(module)? })
    }

    fn run(
        &self,
        module: &Module,
        prepared: &Prepared,
        dims: Dims,
        cancel: &AtomicBool,
    ) -> Result<LaunchStats, Fault> {
        let budget = match self.inner.budget.load(Ordering::Relaxed) {
            0 => None,
            b => Some(b),
        };
        let plan = Plan {
            module: &module.data,
            template: &prepared.instance.template,
            entry: prepared.entry,
            dims,
            params: &prepared.params,
            budget,
            cancel,
            workers: self.inner.workers.load(Ordering::Relaxed) as usize,
            output: &self.inner.output,
        };
        sched::run(&plan, &self.inner.space)
    }

    /// Starts `entry` on a thread of its own and returns at once: for kernels that run until
    /// told to stop through memory (persistent kernels polling mapped rings). The arguments
    /// and shape are checked before the thread starts.
    pub fn launch_async(
        &self,
        module: &Module,
        entry: &str,
        dims: Dims,
        args: &[Arg],
    ) -> Result<LaunchHandle, Fault> {
        let prepared = self.prepare(module, entry, dims, args)?;
        let cancel = Arc::new(AtomicBool::new(false));
        let (vm, module, flag) = (self.clone(), module.clone(), cancel.clone());
        let outcome = crate::launcher::run(move || vm.run(&module, &prepared, dims, &flag))
            .map_err(|e| Fault::Internal(format!("cannot start a launch thread: {e}")))?;
        Ok(LaunchHandle { outcome: Some(outcome), cancel })
    }
}

/// A checked launch: the entry's index, the parameter image and the module's instance.
struct Prepared {
    entry: u32,
    params: Vec<u64>,
    instance: Arc<Instance>,
}

/// A launch running on a launch thread of its own ([`Vm::launch_async`]; the threads are
/// kept between launches). Dropping the handle cancels the launch and waits for it, so no
/// kernel outlives its handle.
pub struct LaunchHandle {
    outcome: Option<Arc<crate::launcher::Outcome<Result<LaunchStats, Fault>>>>,
    cancel: Arc<AtomicBool>,
}

impl std::fmt::Debug for LaunchHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LaunchHandle").field("finished", &self.is_finished()).finish()
    }
}

impl LaunchHandle {
    /// Whether the kernel has finished (exited, faulted or been cancelled).
    pub fn is_finished(&self) -> bool {
        self.outcome.as_ref().is_none_or(|o| o.is_ready())
    }

    /// Waits for the kernel to finish and returns how it ended.
    pub fn wait(mut self) -> Result<LaunchStats, Fault> {
        self.join()
    }

    /// Asks the kernel to stop at its next scheduling point ([`Fault::Cancelled`]).
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    fn join(&mut self) -> Result<LaunchStats, Fault> {
        match self.outcome.take() {
            None => Err(Fault::Internal("the launch was already waited for".into())),
            Some(o) => {
                o.take().unwrap_or_else(|_| Err(Fault::Internal("a launch thread panicked".into())))
            }
        }
    }
}

impl Drop for LaunchHandle {
    fn drop(&mut self) {
        if self.outcome.is_some() {
            self.cancel();
            let _ = self.join();
        }
    }
}
