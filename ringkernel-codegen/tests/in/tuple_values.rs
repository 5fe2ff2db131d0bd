//! Tuples as values: returned from and passed to `#[device]` functions (nested too), kept
//! in locals, read with `.0` / `.1`, assigned whole and part by part, and destructured from
//! a call, an `if` and a local.

#[derive(RingMessage, Clone, Copy)]
#[repr(C)]
pub struct Pair {
    pub a: u32,
    pub b: u32,
    pub x: f32,
    pub k: i8,
}

#[derive(RingMessage, Clone, Copy)]
#[repr(C)]
pub struct TupleValues {
    pub q: u32,
    pub r: u32,
    pub lo: u32,
    pub hi: u32,
    pub mixed: f32,
    pub total: u64,
    pub flag: bool,
    pub k: i8,
}

#[device]
fn div_rem(a: u32, b: u32) -> (u32, u32) {
    if b == 0 {
        return (0, a);
    }
    (a / b, a % b)
}

#[device]
fn order(p: (u32, u32)) -> (u32, u32) {
    if p.0 <= p.1 { p } else { (p.1, p.0) }
}

#[device]
fn spread(a: u32, x: f32) -> ((u32, f32), (bool, i8)) {
    ((a.wrapping_mul(3), x * 0.5), (x > 1.0, (a % 7) as i8))
}

#[ring_kernel(id = "tuple-values")]
fn tuple_values(ctx: &mut RingContext, p: Pair) -> TupleValues {
    let (q, r) = div_rem(p.a, p.b);
    let (lo, hi) = order((p.a, p.b));
    let mut kept = spread(p.a, p.x);
    kept.0.1 += 1.0;
    let ((tripled, half), (flag, small)) = kept;
    let mut acc: (u64, u32) = (0, 0);
    for i in 0..4u32 {
        acc = (acc.0 + (i * p.b % 11) as u64, acc.1 ^ i);
    }
    let (x, y) = if p.k < 0 { (p.k, hi) } else { (small, lo) };
    TupleValues {
        q,
        r,
        lo,
        hi,
        mixed: half + tripled as f32,
        total: acc.0 + acc.1 as u64,
        flag,
        k: x.wrapping_add(y as i8),
    }
}
