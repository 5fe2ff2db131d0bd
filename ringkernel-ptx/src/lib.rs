//! A PTX virtual machine: runs PTX text on the CPU as the PTX ISA defines it.
//!
//! It runs the PTX that ringkernel's code generator writes and the PTX that nvcc and NVRTC
//! emit for ordinary kernels, so the exact artifact a GPU would run can be executed and tested
//! on any machine.
//!
//! ```
//! use ringkernel_ptx::{Arg, Dims, Module, Vm};
//!
//! let module = Module::parse(r#"
//!     .version 7.0
//!     .target sm_70
//!     .address_size 64
//!     .visible .entry add_one(.param .u64 data, .param .u32 n)
//!     {
//!         .reg .pred %p<2>;
//!         .reg .b32 %r<5>;
//!         .reg .b64 %rd<4>;
//!         ld.param.u64 %rd1, [data];
//!         ld.param.u32 %r1, [n];
//!         mov.u32 %r2, %tid.x;
//!         mov.u32 %r3, %ctaid.x;
//!         mad.lo.u32 %r2, %r3, 128, %r2;
//!         setp.ge.u32 %p1, %r2, %r1;
//!         @%p1 bra DONE;
//!         mul.wide.u32 %rd2, %r2, 4;
//!         add.s64 %rd3, %rd1, %rd2;
//!         ld.global.u32 %r4, [%rd3];
//!         add.u32 %r4, %r4, 1;
//!         st.global.u32 [%rd3], %r4;
//!     DONE:
//!         ret;
//!     }
//! "#)?;
//! let vm = Vm::new();
//! let n = 300u32;
//! let buf = vm.alloc(4 * n as usize)?;
//! let input: Vec<u8> = (0..n).flat_map(|i| i.to_le_bytes()).collect();
//! vm.write(buf, &input)?;
//! let stats = vm.launch(&module, "add_one", Dims::linear(3, 128), &[Arg::U64(buf), Arg::U32(n)])?;
//! let mut out = vec![0u8; input.len()];
//! vm.read(buf, &mut out)?;
//! assert_eq!(u32::from_le_bytes(out[4 * 299..].try_into().unwrap()), 300);
//! assert_eq!(stats.threads, 384);
//!
//! // A wild pointer is a fault value, and the VM stays usable.
//! let fault = vm.launch(&module, "add_one", Dims::linear(1, 1), &[Arg::U64(8), Arg::U32(1)]);
//! assert!(matches!(fault, Err(ringkernel_ptx::Fault::IllegalAddress { address: 8, .. })));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # The model
//!
//! **Decoding.** [`Module::parse`] turns the text into a compact program once: registers
//! become indices into a per-thread register file, immediates and symbol addresses become
//! constant slots of that file, labels become instruction indices. Anything the VM does not
//! implement is a [`ParseError`] naming it (line, column, token), never a silent no-op.
//!
//! **Memory spaces.**
//! - *global*: allocations made with [`Vm::alloc`], host ranges mapped with
//!   [`Vm::map_host`], and the module's `.global`/`.const` variables (placed once per module
//!   in each VM; [`Vm::global_address`] finds them). Regions are 256-aligned and separated by
//!   64 KiB holes. Every access is checked: outside all regions is
//!   [`Fault::IllegalAddress`] (CUDA's error 700), not a multiple of its size is
//!   [`Fault::MisalignedAddress`].
//! - *shared*: one zeroed block per CTA (static variables, then `Dims::shared_bytes` of
//!   dynamic shared memory, the `.extern .shared` array).
//! - *local* and *param*: per thread. A module has one static layout for all functions, so
//!   calls copy parameters and jump; a recursive call (whose registers would share the
//!   caller's) is [`Fault::Unsupported`].
//! - *generic* addresses: `cvta` maps shared, local and param addresses into windows above
//!   every global region, so a generic `ld`/`st` finds its space by address.
//!
//! **Ordering.** Every access is a Rust atomic of the access's size. Plain and `.relaxed`/
//! `.volatile` accesses are `Relaxed`; `.acquire`, `.release` and `.acq_rel` are the Rust
//! orderings of the same name whatever the scope (`.cta .gpu .sys` all get the strongest,
//! system scope); `.sc`, `fence.sc` and `membar` are `SeqCst`. So host threads may read and
//! write mapped memory while a kernel runs, as they do with a GPU's mapped pinned memory.
//!
//! **Scheduling.** A batch launch spreads CTAs over host threads ([`Vm::set_workers`]).
//! Inside a CTA, threads run cooperatively: each until it exits, reaches a collective
//! (`bar`, `shfl.sync`, `vote.sync`, `activemask`) or uses up a time slice. Warps rendezvous
//! at collectives; `bar.sync` waits for every thread that has not exited. A barrier or
//! collective that can never complete is [`Fault::Deadlock`]. [`Vm::launch_async`] runs a
//! launch on its own thread so that it can poll memory the host writes (a persistent kernel);
//! `nanosleep` yields the host thread, and after about 20 ms of nothing but polling sleeps
//! 50 µs per round, so an idle persistent kernel does not keep a host core busy.
//!
//! **printf.** A call to CUDA's `vprintf` (what `printf` in CUDA C compiles to) is formatted
//! on the host into [`Vm::take_output`], so kernels can be debugged with `printf` anywhere.
//!
//! **Faults.** Every fault is a [`Fault`] value naming the entry, function, PTX line,
//! block and thread. [`Vm::set_instruction_budget`] bounds a launch
//! ([`Fault::BudgetExhausted`]); `trap` is [`Fault::Trap`]. No input makes the VM panic or
//! touch memory outside what was allocated or mapped.
//!
//! **Arithmetic.** The ISA is the spec: integer results wrap; shifts clamp at the width;
//! every float rounding modifier is exact (see `softfloat`); `cvt` saturates float-to-integer
//! conversions and follows the ISA's width-dependent NaN rule; `.ftz` and `.sat` apply; the
//! `.approx` functions are computed in f64 and rounded once (inside the ISA's error bounds).
//! Integer division by zero is unspecified in the ISA; here `div` by zero gives all bits set
//! and `rem` by zero gives the dividend (as NVIDIA hardware does).

#![deny(unsafe_op_in_unsafe_fn)]

mod error;
mod exec;
mod inst;
mod launcher;
mod lex;
mod memory;
mod module;
mod parse;
mod sched;
mod softfloat;
mod vm;

pub use error::{Fault, Location, MemoryError, ParseError};
pub use memory::REGION_ALIGN;
pub use module::Module;
pub use vm::{
    Arg, Dims, LaunchHandle, LaunchStats, MAX_BLOCK_STATE_BYTES, MAX_SHARED_BYTES,
    MAX_THREADS_PER_BLOCK, Vm,
};
