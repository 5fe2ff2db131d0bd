//! [`EmulatedDevice`]: the [`Device`] that runs PTX in the PTX virtual machine
//! (`ringkernel-ptx`). It needs no GPU, so the whole GPU path runs in CI on every commit.
//!
//! Mapped memory is host memory the VM maps into its address space; device memory is VM
//! memory; a launch runs on a thread of its own ([`ringkernel_ptx::Vm::launch_async`]), where
//! a persistent kernel polls the mapped rings the host writes. Dropping the device cancels
//! the launches still running and waits for them.

use std::alloc::{Layout, alloc_zeroed, dealloc};
use std::collections::HashMap;
use std::ptr::NonNull;

use parking_lot::Mutex;
use ringkernel_ptx::{Arg, Dims, Fault, LaunchHandle, Module, Vm};

use super::{
    Device, DeviceError, FunctionId, LaunchId, LaunchShape, LaunchState, MappedMemory, ModuleId,
};

enum Launch {
    Running(LaunchHandle),
    Ended(Result<(), DeviceError>),
}

#[derive(Default)]
struct Tables {
    next: u64,
    modules: HashMap<u64, Module>,
    launches: HashMap<u64, Launch>,
}

impl Tables {
    fn id(&mut self) -> u64 {
        self.next += 1;
        self.next
    }
}

/// A device whose kernels run in the PTX virtual machine.
pub struct EmulatedDevice {
    vm: Vm,
    tables: Mutex<Tables>,
}

impl Default for EmulatedDevice {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for EmulatedDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmulatedDevice").finish_non_exhaustive()
    }
}

fn memory_error(e: ringkernel_ptx::MemoryError) -> DeviceError {
    DeviceError::Memory(e.to_string())
}

fn ended(result: Result<ringkernel_ptx::LaunchStats, Fault>) -> Result<(), DeviceError> {
    result.map(|_| ()).map_err(|f| DeviceError::Fault(f.to_string()))
}

impl EmulatedDevice {
    /// A device with a fresh VM.
    pub fn new() -> Self {
        EmulatedDevice { vm: Vm::new(), tables: Mutex::new(Tables::default()) }
    }

    /// The VM behind the device (for tests and tools that inspect memory).
    pub fn vm(&self) -> &Vm {
        &self.vm
    }
}

impl Device for EmulatedDevice {
    fn name(&self) -> String {
        "PTX VM (ringkernel-ptx)".into()
    }

    fn alloc_mapped(&self, len: usize) -> Result<MappedMemory, DeviceError> {
        let refused = || DeviceError::Memory(format!("cannot map {len} bytes of host memory"));
        if len == 0 {
            return Err(refused());
        }
        let layout = Layout::from_size_align(len, 64).map_err(|_| refused())?;
        // SAFETY: the layout's size is not zero (checked above).
        let host = NonNull::new(unsafe { alloc_zeroed(layout) }).ok_or_else(refused)?;
        // SAFETY: the allocation is valid for `len` bytes and 64-byte aligned; the closure
        // below unmaps it from the VM before freeing it, and the VM's own accesses are atomic.
        let address = match unsafe { self.vm.map_host(host.as_ptr(), len) } {
            Ok(a) => a,
            Err(e) => {
                // SAFETY: allocated just above with this layout and never shared.
                unsafe { dealloc(host.as_ptr(), layout) };
                return Err(memory_error(e));
            }
        };
        let vm = self.vm.clone();
        let raw = host.as_ptr() as usize;
        let release = Box::new(move || {
            let _ = vm.unmap(address);
            // SAFETY: `raw` is the allocation made above with `layout`, freed once (the
            // closure runs once, from `MappedMemory::drop`), after it left the VM's table.
            unsafe { dealloc(raw as *mut u8, layout) };
        });
        // SAFETY: valid, aligned and zero-filled until `release` runs; the VM sees it at
        // `address`.
        Ok(unsafe { MappedMemory::from_raw_parts(host, len, address, release) })
    }

    fn alloc(&self, len: usize) -> Result<u64, DeviceError> {
        self.vm.alloc(len).map_err(memory_error)
    }

    fn free(&self, address: u64) -> Result<(), DeviceError> {
        self.vm.free(address).map_err(memory_error)
    }

    fn write(&self, address: u64, bytes: &[u8]) -> Result<(), DeviceError> {
        self.vm.write(address, bytes).map_err(memory_error)
    }

    fn read(&self, address: u64, out: &mut [u8]) -> Result<(), DeviceError> {
        self.vm.read(address, out).map_err(memory_error)
    }

    fn load_module(&self, ptx: &str) -> Result<ModuleId, DeviceError> {
        let module = Module::parse(ptx).map_err(|e| DeviceError::Load(e.to_string()))?;
        let mut t = self.tables.lock();
        let id = t.id();
        t.modules.insert(id, module);
        Ok(ModuleId(id))
    }

    fn function(&self, module: ModuleId, name: &str) -> Result<FunctionId, DeviceError> {
        let t = self.tables.lock();
        let m = t.modules.get(&module.0).ok_or(DeviceError::UnknownHandle("module"))?;
        let index = m
            .entries()
            .iter()
            .position(|e| *e == name)
            .ok_or_else(|| DeviceError::NoFunction { name: name.into() })?;
        Ok(FunctionId { module, index: index as u64 })
    }

    fn launch(
        &self,
        function: FunctionId,
        shape: LaunchShape,
        params: &[u64],
    ) -> Result<LaunchId, DeviceError> {
        let module = {
            let t = self.tables.lock();
            t.modules.get(&function.module.0).ok_or(DeviceError::UnknownHandle("module"))?.clone()
        };
        let entry = module
            .entries()
            .get(function.index as usize)
            .map(|e| e.to_string())
            .ok_or(DeviceError::UnknownHandle("function"))?;
        let sizes = module.entry_params(&entry).unwrap_or_default();
        if sizes.len() != params.len() {
            return Err(DeviceError::Launch(format!(
                "`{entry}` takes {} parameters, {} given",
                sizes.len(),
                params.len()
            )));
        }
        let mut args = Vec::with_capacity(params.len());
        for (i, (&v, &size)) in params.iter().zip(&sizes).enumerate() {
            args.push(match size {
                1 => Arg::U8(v as u8),
                2 => Arg::U16(v as u16),
                4 => Arg::U32(v as u32),
                8 => Arg::U64(v),
                n => {
                    return Err(DeviceError::Launch(format!(
                        "parameter {i} of `{entry}` is {n} bytes, not a raw 64-bit value"
                    )));
                }
            });
        }
        let dims = Dims { grid: shape.grid, block: shape.block, shared_bytes: shape.shared_bytes };
        let handle = self
            .vm
            .launch_async(&module, &entry, dims, &args)
            .map_err(|f| DeviceError::Launch(f.to_string()))?;
        let mut t = self.tables.lock();
        let id = t.id();
        t.launches.insert(id, Launch::Running(handle));
        Ok(LaunchId(id))
    }

    fn poll(&self, launch: LaunchId) -> Result<LaunchState, DeviceError> {
        let mut t = self.tables.lock();
        let slot = t.launches.get_mut(&launch.0).ok_or(DeviceError::UnknownHandle("launch"))?;
        if let Launch::Running(handle) = slot {
            if !handle.is_finished() {
                return Ok(LaunchState::Running);
            }
            let Launch::Running(handle) = std::mem::replace(slot, Launch::Ended(Ok(()))) else {
                unreachable!("matched above")
            };
            *slot = Launch::Ended(ended(handle.wait()));
        }
        match slot {
            Launch::Ended(Ok(())) => Ok(LaunchState::Finished),
            Launch::Ended(Err(e)) => Err(e.clone()),
            Launch::Running(_) => unreachable!("replaced above"),
        }
    }

    fn wait(&self, launch: LaunchId) -> Result<(), DeviceError> {
        let taken = self.tables.lock().launches.remove(&launch.0);
        match taken.ok_or(DeviceError::UnknownHandle("launch"))? {
            Launch::Running(handle) => ended(handle.wait()),
            Launch::Ended(result) => result,
        }
    }

    fn unload(&self, module: ModuleId) -> Result<(), DeviceError> {
        self.tables
            .lock()
            .modules
            .remove(&module.0)
            .map(|_| ())
            .ok_or(DeviceError::UnknownHandle("module"))
    }
}
