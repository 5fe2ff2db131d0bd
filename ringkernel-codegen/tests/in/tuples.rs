//! Tuples destructured where they are made: tuple expressions (nested, `_`, `mut`, a type
//! annotation, a swap), array patterns, `sin_cos` and the `overflowing_` methods at several
//! widths.

#[derive(RingMessage, Clone, Copy)]
#[repr(C)]
pub struct Operands {
    pub a: i32,
    pub b: i32,
    pub u: u64,
    pub v: u64,
    pub c: i8,
    pub d: u8,
    pub l: i64,
    pub x: f64,
    pub y: f32,
}

#[derive(RingMessage, Clone, Copy)]
#[repr(C)]
pub struct TupleFacts {
    pub swapped: [i32; 2],
    pub nested: i32,
    pub sum: i32,
    pub diff: u64,
    pub product: i8,
    pub wide_product: u64,
    pub narrow_sum: u8,
    pub signed_product: i64,
    pub signed_diff: i32,
    pub overflowed: [bool; 7],
    pub sine: f64,
    pub cosine: f64,
    pub sine_small: f32,
    pub cosine_small: f32,
}

#[ring_kernel(id = "tuples")]
fn tuples(ctx: &mut RingContext, o: Operands) -> TupleFacts {
    let (a, b) = (o.a, o.b);
    let (a, b) = (b, a);
    let ((first, _), mut count) = ((a, b), 3);
    let [low, high]: [i32; 2] = [o.a.min(o.b), o.a.max(o.b)];
    count += high.wrapping_sub(low) % 17;
    count += first.wrapping_mul(2);
    let (sum, o1) = o.a.overflowing_add(o.b);
    let (diff, o2) = o.u.overflowing_sub(o.v);
    let (product, o3) = o.c.overflowing_mul(o.c);
    let (wide_product, o4) = o.u.overflowing_mul(o.v);
    let (narrow_sum, o5) = o.d.overflowing_add(o.d);
    let (signed_product, o6) = o.l.overflowing_mul(o.u as i64);
    let (signed_diff, o7) = (o.a).overflowing_sub(o.b.wrapping_neg());
    let (sine, cosine): (f64, f64) = o.x.sin_cos();
    let (sine_small, cosine_small) = o.y.sin_cos();
    TupleFacts {
        swapped: [a, b],
        nested: count,
        sum,
        diff,
        product,
        wide_product,
        narrow_sum,
        signed_product,
        signed_diff,
        overflowed: [o1, o2, o3, o4, o5, o6, o7],
        sine,
        cosine,
        sine_small,
        cosine_small,
    }
}
