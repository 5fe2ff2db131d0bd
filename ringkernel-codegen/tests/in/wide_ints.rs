//! 64-bit integers, usize/isize, constants of every width.

#[derive(RingMessage, Clone, Copy)]
#[repr(C)]
pub struct Wide {
    pub a: u64,
    pub b: i64,
    pub c: usize,
    pub d: isize,
}

#[ring_kernel(id = "wide-ints")]
fn wide(ctx: &mut RingContext, w: Wide) -> Wide {
    Wide {
        a: w.a.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ u64::MAX,
        b: w.b / -3 + i64::MIN / 2,
        c: w.c + usize::MAX % 1000,
        d: (w.d * -1).max(isize::MIN + 1),
    }
}
