//! A stateful counter: struct message and response, state, loops, arrays, a device helper.

#[derive(RingMessage, Clone, Copy)]
#[repr(C)]
pub struct Add {
    pub amount: i64,
    pub weights: [u16; 4],
}

#[derive(RingMessage, Clone, Copy)]
#[repr(C)]
pub struct Totals {
    pub sum: i64,
    pub calls: u32,
    pub history: [i64; 4],
}

#[derive(RingMessage, Clone, Copy)]
#[repr(C)]
pub struct Reply {
    pub sum: i64,
    pub weighted: u32,
    pub ok: bool,
}

#[device]
fn clamp_add(a: u32, b: u32, limit: u32) -> u32 {
    let s = a.wrapping_add(b);
    if s > limit { limit } else { s }
}

#[ring_kernel(id = "counter", queue_capacity = 256)]
async fn count(ctx: &mut RingContext, state: &mut Totals, msg: Add) -> Reply {
    state.sum = state.sum.wrapping_add(msg.amount);
    let slot = (state.calls % 4) as usize;
    state.history[slot] = msg.amount;
    state.calls += 1;
    let mut weighted = 0u32;
    for i in 0..4 {
        weighted = clamp_add(weighted, msg.weights[i] as u32 * (i as u32 + 1), 1000);
    }
    let _seq = ctx.message_seq();
    Reply { sum: state.sum, weighted, ok: state.sum >= 0 }
}
