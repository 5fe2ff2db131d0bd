//! [`CudaDevice`]: the [`Device`] on an NVIDIA GPU, through cudarc's driver API (feature
//! `cuda`; cudarc loads libcuda at run time, so this builds without a CUDA toolkit).
//!
//! The CUDA facts it is built on (DESIGN §6): libcuda is probed before any driver call
//! (cudarc panics without it); every stream is created when the device is opened, because
//! creating one later can synchronise the context and so wait forever for a persistent kernel;
//! mapped memory is pinned with `DEVICEMAP | PORTABLE` and addressed through
//! `cuMemHostGetDevicePointer`; copies run on a setup stream, never on a kernel's stream;
//! parameters are raw `u64` device addresses and scalars. All raw driver calls live in this
//! module.
//!
//! Frees must not wait for persistent kernels: `cuMemFree` and `cuMemFreeHost` synchronise
//! the whole device, so with other actors' kernels running they would never return. Device
//! memory is therefore allocated and freed stream-ordered on the setup stream
//! (`cuMemAllocAsync` / `cuMemFreeAsync`), and the pinned host memory of a mapping that was
//! released is kept until the device closes, when no kernel of it runs any more.
//!
//! Checked here only for the paths a machine without a GPU takes (no driver: an error value);
//! `scripts/gpu/check.sh` (issue 10) is where the rest gets checked on a GPU.

use std::collections::HashMap;
use std::ffi::{CString, c_void};
use std::ptr::NonNull;
use std::sync::Arc;

use cudarc::driver::result::{self, DriverError};
use cudarc::driver::{CudaContext, sys};
use parking_lot::Mutex;

use super::{
    Device, DeviceError, FunctionId, LaunchId, LaunchShape, LaunchState, MappedMemory, ModuleId,
};

/// Streams opened with the device: at most this many launches run at once.
const STREAMS: usize = 16;

fn driver(what: &str, e: DriverError) -> String {
    format!("{what}: {e:?}")
}

/// A raw driver handle (module, function or stream).
#[derive(Clone, Copy)]
struct Raw<T>(T);

// SAFETY: CUDA driver handles are opaque identifiers valid in any host thread that has the
// context current; every use below binds the context first.
unsafe impl<T> Send for Raw<T> {}
// SAFETY: as for `Send`; the handles are only passed by value to the driver.
unsafe impl<T> Sync for Raw<T> {}

struct Launch {
    stream: Raw<sys::CUstream>,
    result: Option<Result<(), DeviceError>>,
}

#[derive(Default)]
struct Tables {
    next: u64,
    modules: HashMap<u64, (Raw<sys::CUmodule>, Vec<Raw<sys::CUfunction>>)>,
    launches: HashMap<u64, Launch>,
    free_streams: Vec<Raw<sys::CUstream>>,
}

/// A device whose kernels run on an NVIDIA GPU.
pub struct CudaDevice {
    ctx: Arc<CudaContext>,
    setup: Raw<sys::CUstream>,
    tables: Mutex<Tables>,
    /// Pinned host allocations released by their mappings, freed when the device closes.
    released_host: Arc<Mutex<Vec<usize>>>,
}

impl Drop for CudaDevice {
    fn drop(&mut self) {
        let _ = self.ctx.bind_to_thread();
        for raw in self.released_host.lock().drain(..) {
            // SAFETY: each address came from `malloc_host` and was released by its mapping
            // (no host code uses it); the device is closing, so no kernel of it runs.
            let _ = unsafe { result::free_host(raw as *mut c_void) };
        }
    }
}

impl std::fmt::Debug for CudaDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CudaDevice").field("ordinal", &self.ctx.ordinal()).finish_non_exhaustive()
    }
}

impl CudaDevice {
    /// Opens GPU `ordinal`. No libcuda, no device or a driver error is an error value.
    pub fn new(ordinal: usize) -> Result<Self, DeviceError> {
        // SAFETY: `is_culib_present` only tries to open the library; it calls no driver
        // function.
        if !unsafe { sys::is_culib_present() } {
            return Err(DeviceError::NoDriver("libcuda was not found on this machine".into()));
        }
        let count =
            CudaContext::device_count().map_err(|e| DeviceError::NoDriver(driver("cuInit", e)))?;
        if ordinal >= count.max(0) as usize {
            return Err(DeviceError::NoDevice(format!(
                "device {ordinal} asked for, {count} present"
            )));
        }
        let ctx =
            CudaContext::new(ordinal).map_err(|e| DeviceError::NoDevice(driver("context", e)))?;
        let stream = || {
            result::stream::create(result::stream::StreamKind::NonBlocking)
                .map(Raw)
                .map_err(|e| DeviceError::NoDevice(driver("stream", e)))
        };
        ctx.bind_to_thread().map_err(|e| DeviceError::NoDevice(driver("bind", e)))?;
        let setup = stream()?;
        let free_streams = (0..STREAMS).map(|_| stream()).collect::<Result<Vec<_>, _>>()?;
        Ok(CudaDevice {
            ctx,
            setup,
            tables: Mutex::new(Tables { free_streams, ..Tables::default() }),
            released_host: Arc::new(Mutex::new(Vec::new())),
        })
    }

    fn bind(&self) -> Result<(), DeviceError> {
        self.ctx.bind_to_thread().map_err(|e| DeviceError::NoDevice(driver("bind", e)))
    }

    fn sync_setup(&self) -> Result<(), DeviceError> {
        // SAFETY: the setup stream was created with this context and is never destroyed
        // before the device.
        unsafe { result::stream::synchronize(self.setup.0) }
            .map_err(|e| DeviceError::Memory(driver("synchronize", e)))
    }
}

impl Device for CudaDevice {
    fn name(&self) -> String {
        self.ctx.name().unwrap_or_else(|_| format!("CUDA device {}", self.ctx.ordinal()))
    }

    fn alloc_mapped(&self, len: usize) -> Result<MappedMemory, DeviceError> {
        if len == 0 {
            return Err(DeviceError::Memory("cannot map 0 bytes".into()));
        }
        self.bind()?;
        let flags = sys::CU_MEMHOSTALLOC_DEVICEMAP | sys::CU_MEMHOSTALLOC_PORTABLE;
        // SAFETY: a plain pinned allocation; the bytes are zeroed below before any use.
        let host = unsafe { result::malloc_host(len, flags) }
            .map_err(|e| DeviceError::Memory(driver("cuMemHostAlloc", e)))?;
        let Some(host) = NonNull::new(host.cast::<u8>()) else {
            return Err(DeviceError::Memory("cuMemHostAlloc returned null".into()));
        };
        // SAFETY: the allocation is `len` bytes, ours alone so far.
        unsafe { host.as_ptr().write_bytes(0, len) };
        let mut address: sys::CUdeviceptr = 0;
        // SAFETY: `host` was allocated with DEVICEMAP in the current context; `address`
        // receives its device pointer.
        let mapped =
            unsafe { sys::cuMemHostGetDevicePointer_v2(&mut address, host.as_ptr().cast(), 0) }
                .result();
        let raw = host.as_ptr() as usize;
        if let Err(e) = mapped {
            // SAFETY: allocated just above, never shared, not mapped into any kernel's view.
            let _ = unsafe { result::free_host(raw as *mut c_void) };
            return Err(DeviceError::Memory(driver("cuMemHostGetDevicePointer", e)));
        }
        // Freed when the device closes (see the module docs), not when the mapping drops.
        let released = self.released_host.clone();
        let release = Box::new(move || released.lock().push(raw));
        // SAFETY: pinned, zeroed, 4 KiB-aligned (pinned allocations are page aligned) until
        // `release` frees it; the device sees it at `address`.
        Ok(unsafe { MappedMemory::from_raw_parts(host, len, address, release) })
    }

    fn alloc(&self, len: usize) -> Result<u64, DeviceError> {
        self.bind()?;
        // SAFETY: a stream-ordered allocation on the setup stream, zeroed there and
        // synchronised before it is returned (so before any kernel can use it).
        unsafe {
            let ptr = result::malloc_async(self.setup.0, len.max(1))
                .map_err(|e| DeviceError::Memory(driver("cuMemAllocAsync", e)))?;
            result::memset_d8_async(ptr, 0, len.max(1), self.setup.0)
                .map_err(|e| DeviceError::Memory(driver("cuMemsetD8", e)))?;
            self.sync_setup()?;
            Ok(ptr)
        }
    }

    fn free(&self, address: u64) -> Result<(), DeviceError> {
        self.bind()?;
        // SAFETY: stream-ordered on the setup stream (no device-wide synchronisation); the
        // driver checks that `address` is an allocation of this context.
        unsafe { result::free_async(address, self.setup.0) }
            .map_err(|e| DeviceError::Memory(driver("cuMemFreeAsync", e)))?;
        self.sync_setup()
    }

    fn write(&self, address: u64, bytes: &[u8]) -> Result<(), DeviceError> {
        self.bind()?;
        // SAFETY: the copy reads `bytes`, which outlive it (the setup stream is synchronised
        // before returning); the driver checks the device range.
        unsafe { result::memcpy_htod_async(address, bytes, self.setup.0) }
            .map_err(|e| DeviceError::Memory(driver("cuMemcpyHtoD", e)))?;
        self.sync_setup()
    }

    fn read(&self, address: u64, out: &mut [u8]) -> Result<(), DeviceError> {
        self.bind()?;
        // SAFETY: as in `write`, writing into `out`.
        unsafe { result::memcpy_dtoh_async(out, address, self.setup.0) }
            .map_err(|e| DeviceError::Memory(driver("cuMemcpyDtoH", e)))?;
        self.sync_setup()
    }

    fn load_module(&self, ptx: &str) -> Result<ModuleId, DeviceError> {
        self.bind()?;
        let image = CString::new(ptx)
            .map_err(|_| DeviceError::Load("PTX text contains a NUL byte".into()))?;
        // SAFETY: `image` is a NUL-terminated PTX text, which the driver JIT-compiles.
        let module = unsafe { result::module::load_data(image.as_ptr().cast()) }
            .map_err(|e| DeviceError::Load(driver("cuModuleLoadData", e)))?;
        let mut t = self.tables.lock();
        t.next += 1;
        let id = t.next;
        t.modules.insert(id, (Raw(module), Vec::new()));
        Ok(ModuleId(id))
    }

    fn function(&self, module: ModuleId, name: &str) -> Result<FunctionId, DeviceError> {
        self.bind()?;
        let mut t = self.tables.lock();
        let (m, functions) =
            t.modules.get_mut(&module.0).ok_or(DeviceError::UnknownHandle("module"))?;
        let cname =
            CString::new(name).map_err(|_| DeviceError::NoFunction { name: name.into() })?;
        // SAFETY: `m` is a loaded module of this context (removed from the table on unload).
        let f = unsafe { result::module::get_function(m.0, cname) }
            .map_err(|_| DeviceError::NoFunction { name: name.into() })?;
        functions.push(Raw(f));
        Ok(FunctionId { module, index: functions.len() as u64 - 1 })
    }

    fn launch(
        &self,
        function: FunctionId,
        shape: LaunchShape,
        params: &[u64],
    ) -> Result<LaunchId, DeviceError> {
        self.bind()?;
        let mut t = self.tables.lock();
        let f = t
            .modules
            .get(&function.module.0)
            .and_then(|(_, fs)| fs.get(function.index as usize).copied())
            .ok_or(DeviceError::UnknownHandle("function"))?;
        let stream = t.free_streams.pop().ok_or_else(|| {
            DeviceError::Launch(format!("all {STREAMS} streams are running kernels"))
        })?;
        let mut values = params.to_vec();
        let mut pointers: Vec<*mut c_void> =
            values.iter_mut().map(|v| (v as *mut u64).cast()).collect();
        let [gx, gy, gz] = shape.grid;
        let [bx, by, bz] = shape.block;
        // SAFETY: `f` belongs to a loaded module; each parameter pointer points to a u64 that
        // lives across the call (the driver copies parameters at launch); narrower parameters
        // read their low bytes (little-endian). The kernel's memory accesses are the caller's
        // contract, as for any CUDA launch.
        let launched = unsafe {
            result::launch_kernel(
                f.0,
                (gx, gy, gz),
                (bx, by, bz),
                shape.shared_bytes,
                stream.0,
                &mut pointers,
            )
        };
        if let Err(e) = launched {
            t.free_streams.push(stream);
            return Err(DeviceError::Launch(driver("cuLaunchKernel", e)));
        }
        t.next += 1;
        let id = t.next;
        t.launches.insert(id, Launch { stream, result: None });
        Ok(LaunchId(id))
    }

    fn poll(&self, launch: LaunchId) -> Result<LaunchState, DeviceError> {
        self.bind()?;
        let mut t = self.tables.lock();
        let l = t.launches.get_mut(&launch.0).ok_or(DeviceError::UnknownHandle("launch"))?;
        if l.result.is_none() {
            // SAFETY: the stream was created with this context and is not destroyed while the
            // device lives.
            match unsafe { sys::cuStreamQuery(l.stream.0) } {
                sys::CUresult::CUDA_ERROR_NOT_READY => return Ok(LaunchState::Running),
                status => {
                    l.result =
                        Some(status.result().map_err(|e| DeviceError::Fault(driver("kernel", e))))
                }
            }
        }
        match l.result.clone().expect("set above") {
            Ok(()) => Ok(LaunchState::Finished),
            Err(e) => Err(e),
        }
    }

    fn wait(&self, launch: LaunchId) -> Result<(), DeviceError> {
        self.bind()?;
        let l = self
            .tables
            .lock()
            .launches
            .remove(&launch.0)
            .ok_or(DeviceError::UnknownHandle("launch"))?;
        // SAFETY: as in `poll`.
        let result = unsafe { result::stream::synchronize(l.stream.0) }
            .map_err(|e| DeviceError::Fault(driver("kernel", e)));
        self.tables.lock().free_streams.push(l.stream);
        l.result.unwrap_or(result)
    }

    fn unload(&self, module: ModuleId) -> Result<(), DeviceError> {
        self.bind()?;
        let (m, _) = self
            .tables
            .lock()
            .modules
            .remove(&module.0)
            .ok_or(DeviceError::UnknownHandle("module"))?;
        // SAFETY: removed from the table, so unloaded once; launches already running keep
        // their code (the driver defers the unload).
        unsafe { result::module::unload(m.0) }
            .map_err(|e| DeviceError::Load(driver("cuModuleUnload", e)))
    }
}
