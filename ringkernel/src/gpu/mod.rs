//! The GPU path: actors as persistent kernels over any [`crate::device::Device`] (the PTX VM
//! on `Backend::Emulated`, CUDA on `Backend::Cuda`), and [`GpuSwapBackend`], which hot-swaps
//! rule versions by relaunching the persistent entry on the same rings and state.

pub(crate) mod actor;
mod swap;

pub use swap::GpuSwapBackend;

use ringkernel_codegen::artifact::{Artifact, LayoutRecord};

use crate::device::LaunchShape;
use crate::message::RingMessage;

/// What the GPU path needs from an artifact: its persistent entry, launch shape, ring
/// geometry and layouts.
#[derive(Debug, Clone)]
pub(crate) struct Image {
    pub persistent: String,
    /// The batch entry (the CPU backend runs PTX-only rule versions through it).
    #[cfg_attr(not(feature = "emulator"), allow(dead_code))]
    pub batch: String,
    pub shape: LaunchShape,
    pub message: LayoutRecord,
    pub response: LayoutRecord,
    pub state_size: usize,
}

impl Image {
    pub fn of(artifact: &Artifact) -> Self {
        let m = &artifact.metadata;
        Image {
            persistent: m.entries.persistent.clone(),
            batch: m.entries.batch.clone(),
            shape: LaunchShape {
                grid: [m.actor.grid_size.max(1), 1, 1],
                block: [m.actor.block_size.max(1), 1, 1],
                shared_bytes: m.actor.shared_memory_bytes,
            },
            message: m.message.clone(),
            response: m.response.clone(),
            state_size: m.state.as_ref().map_or(0, |s| s.size as usize),
        }
    }

    /// Parses artifact text into the artifact and its image.
    pub fn parse(text: &str) -> Result<(Artifact, Image), String> {
        let artifact = Artifact::parse(text).map_err(|e| e.to_string())?;
        let image = Image::of(&artifact);
        Ok((artifact, image))
    }
}

/// The type id a ring carries for a layout when no Rust type names it (a PTX-only artifact):
/// the scalars' fixed ids, else a hash of the layout's name (what `#[derive(RingMessage)]`
/// gives a type at a crate's root; other types can pin theirs with the derive's `type_id` attribute).
pub(crate) fn type_id_for_layout(layout: &LayoutRecord) -> u64 {
    macro_rules! scalar {
        ($($ty:ty),*) => {
            match layout.name.as_str() {
                $(stringify!($ty) => return <$ty as RingMessage>::TYPE_ID,)*
                _ => {}
            }
        };
    }
    scalar!(u8, i8, u16, i16, u32, i32, u64, i64, f32, f64, bool);
    crate::__private::type_id_of(&layout.name)
}
