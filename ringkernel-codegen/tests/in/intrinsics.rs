//! The context intrinsics.

#[derive(RingMessage, Clone, Copy)]
#[repr(C)]
pub struct Stamp {
    pub seq: u64,
    pub time: u64,
    pub slot: u32,
}

#[ring_kernel(id = "stamp")]
fn stamp(ctx: &mut RingContext, tag: u32) -> Stamp {
    Stamp { seq: ctx.message_seq(), time: ctx.now(), slot: ctx.kernel_slot() + tag }
}
