//! `clamp` (integers and floats; natively Rust panics when `lo > hi` or a bound is NaN, the
//! DSL gives Rust's comparisons in Rust's order instead), wrapping `pow` / `wrapping_pow`, and
//! `div_euclid` / `rem_euclid` (a zero divisor gives 0 and records the error), `isqrt`
//! (signed too: a negative value gives 0 and records the error, where Rust panics).

#[derive(RingMessage, Clone, Copy)]
#[repr(C)]
pub struct Bounds {
    pub a: i32,
    pub b: i32,
    pub n: u32,
    pub d: u8,
    pub x: f32,
    pub y: f32,
    pub l: i64,
    pub p: f64,
    pub q: f64,
}

#[derive(RingMessage, Clone, Copy)]
#[repr(C)]
pub struct Clamped {
    pub ints: [i32; 2],
    pub small: u8,
    pub floats: [f32; 2],
    pub wide: [f64; 2],
    pub powers: [i32; 2],
    pub power_byte: u8,
    pub power_wide: i64,
    pub euclid: [i32; 4],
    pub euclid_small: [i8; 2],
    pub euclid_unsigned: [u8; 2],
    pub euclid_wide: [i64; 2],
    pub rounded: f32,
    pub rounded_wide: f64,
    pub next_powers: [u32; 2],
    pub next_power_wide: u64,
    pub roots: [u32; 2],
    pub root_wide: u64,
    pub root_max: u64,
    pub root_squares: [u64; 3],
}

#[ring_kernel(id = "clamp-pow")]
fn clamp_pow(ctx: &mut RingContext, v: Bounds) -> Clamped {
    Clamped {
        ints: [v.a.clamp(-5, v.b), v.b.clamp(v.a, 100)],
        small: v.d.clamp(10, 200),
        floats: [v.x.clamp(v.y, 1.0), v.y.clamp(-2.5, 2.5)],
        wide: [v.p.clamp(-1.0, v.q), v.q.clamp(v.p, v.p)],
        powers: [v.a.wrapping_pow(v.n), v.b.pow(v.n % 7)],
        power_byte: v.d.pow(v.n % 9),
        power_wide: v.l.pow(3),
        euclid: [v.a.div_euclid(v.b), v.a.rem_euclid(v.b), v.a.wrapping_div_euclid(-7), v.b.rem_euclid(i32::MIN)],
        euclid_small: [(v.a as i8).div_euclid(v.d as i8), (v.a as i8).rem_euclid(v.d as i8)],
        euclid_unsigned: [v.d.div_euclid(v.n as u8), v.d.rem_euclid(v.n as u8)],
        euclid_wide: [v.l.div_euclid(v.a as i64), v.l.rem_euclid(v.b as i64)],
        rounded: v.x.round(),
        rounded_wide: v.p.round(),
        next_powers: [v.n.next_power_of_two(), (v.d as u32).next_power_of_two()],
        next_power_wide: (v.l as u64).next_power_of_two(),
        roots: [v.n.isqrt(), (v.d as u16).isqrt() as u32],
        root_wide: (v.l as u64).isqrt(),
        root_max: (u64::MAX - v.n as u64).isqrt(),
        root_squares: [
            ((v.n as u64) * (v.n as u64)).isqrt(),
            ((v.n as u64) * (v.n as u64) - 1).isqrt(),
            ((v.n as u64) * (v.n as u64) + 2 * (v.n as u64)).isqrt(),
        ],
    }
}

#[ring_kernel(id = "signed-root")]
fn signed_root(ctx: &mut RingContext, x: i64) -> i64 {
    x.isqrt() + (x as i16).isqrt() as i64
}
