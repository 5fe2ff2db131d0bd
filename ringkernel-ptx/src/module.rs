//! A parsed module: the decoded program of every function plus its static layout.
//!
//! The whole module shares one static layout per thread: every function's registers, its
//! parameters (and the `.param` blocks of its call sites) and its `.local` variables have
//! fixed offsets in the thread's register file, param area and local area. A call therefore
//! copies the argument bytes and jumps; it allocates nothing. The price is recursion: calling
//! a function that is already on the thread's call stack is a [`crate::Fault::Unsupported`]
//! (a GPU would need a stack frame; ordinary kernels, ours and nvcc's, do not recurse).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::inst::Inst;

/// Number of register slots holding special registers, after slot 0 (the sink).
pub(crate) const SPECIAL_SLOTS: u32 = 16;

/// The fixed special-register slots (filled when a thread starts).
pub(crate) mod special {
    pub const TID: u32 = 1; // x, y, z at 1, 2, 3
    pub const NTID: u32 = 4;
    pub const CTAID: u32 = 7;
    pub const NCTAID: u32 = 10;
    pub const LANEID: u32 = 13;
    pub const WARPID: u32 = 14;
    pub const NWARPID: u32 = 15;
    pub const SMID: u32 = 16;
}

/// A value the instance fills into a constant register slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum ConstValue {
    Bits(u64),
    /// Address of a `.global`/`.const` variable plus an offset (known once placed in a VM).
    GlobalAddress {
        var: u32,
        offset: i64,
    },
    /// Shared-space address inside dynamic shared memory (resolved when parsing ends).
    DynamicShared {
        offset: i64,
    },
}

/// A `.param` of a function signature: where it lives in the thread's param area.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ParamSlot {
    pub offset: u32,
    pub size: u32,
}

#[derive(Clone, Debug)]
pub(crate) struct Function {
    pub name: String,
    pub is_entry: bool,
    pub defined: bool,
    pub start: u32,
    pub params: Vec<ParamSlot>,
    pub rets: Vec<ParamSlot>,
    /// The function (or a function it calls) uses a barrier or a warp collective.
    pub uses_collectives: bool,
}

/// A `.global` or `.const` variable: placed in a VM's address space once per instance.
#[derive(Clone, Debug)]
pub(crate) struct Variable {
    pub name: String,
    pub size: u64,
    pub init: Vec<u8>,
}

#[derive(Debug)]
pub(crate) struct ModuleData {
    pub id: u64,
    pub functions: Vec<Function>,
    pub code: Vec<Inst>,
    /// PTX line of each instruction (for fault locations).
    pub lines: Vec<u32>,
    /// Function index of each instruction.
    pub owner: Vec<u32>,
    pub register_count: u32,
    pub constants: Vec<(u32, ConstValue)>,
    pub variables: Vec<Variable>,
    pub param_size: u32,
    pub local_size: u32,
    /// Bytes of statically declared `.shared` variables; dynamic shared memory follows.
    pub shared_static_size: u32,
    pub version: (u32, u32),
    pub target: String,
}

/// A parsed PTX module, ready to launch in any [`crate::Vm`]. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Module {
    pub(crate) data: Arc<ModuleData>,
}

static NEXT_MODULE_ID: AtomicU64 = AtomicU64::new(1);

pub(crate) fn next_module_id() -> u64 {
    NEXT_MODULE_ID.fetch_add(1, Ordering::Relaxed)
}

impl Module {
    /// Parses PTX text. Every construct the VM does not run is an error naming it.
    ///
    /// ```
    /// let m = ringkernel_ptx::Module::parse(".version 7.0\n.target sm_70\n.address_size 64\n\
    ///     .visible .entry k() { ret; }").unwrap();
    /// assert_eq!(m.entries(), vec!["k"]);
    /// assert!(ringkernel_ptx::Module::parse("bogus").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<Module, crate::ParseError> {
        crate::parse::parse_module(text).map(|data| Module { data: Arc::new(data) })
    }

    /// Names of the module's `.entry` functions, in order of appearance.
    pub fn entries(&self) -> Vec<&str> {
        self.data.functions.iter().filter(|f| f.is_entry).map(|f| f.name.as_str()).collect()
    }

    /// Names of every function, entries included.
    pub fn functions(&self) -> Vec<&str> {
        self.data.functions.iter().map(|f| f.name.as_str()).collect()
    }

    /// Number of decoded instructions.
    pub fn instruction_count(&self) -> usize {
        self.data.code.len()
    }

    /// The `.version` directive.
    pub fn ptx_version(&self) -> (u32, u32) {
        self.data.version
    }

    /// The first `.target` (e.g. `sm_70`).
    pub fn target(&self) -> &str {
        &self.data.target
    }

    /// Sizes in bytes of the entry's parameters, in order.
    pub fn entry_params(&self, entry: &str) -> Option<Vec<u32>> {
        let f = self.data.functions.iter().find(|f| f.is_entry && f.name == entry)?;
        Some(f.params.iter().map(|p| p.size).collect())
    }
}
