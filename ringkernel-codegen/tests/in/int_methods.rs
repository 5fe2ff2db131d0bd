//! The integers' methods, on every width and signedness: wrapping arithmetic under its
//! method names (a zero divisor gives 0 and records the error), bit counts, rotations, byte
//! and bit reversal, sign tests, `abs_diff`.

#[derive(RingMessage, Clone, Copy)]
#[repr(C)]
pub struct Ints {
    pub a: i32,
    pub b: i32,
    pub u: u64,
    pub n: u32,
    pub h: i16,
    pub v: u16,
    pub c: i8,
    pub d: u8,
    pub l: i64,
}

#[derive(RingMessage, Clone, Copy)]
#[repr(C)]
pub struct IntFacts {
    pub quotient: i32,
    pub remainder: i32,
    pub negated: i32,
    pub abs: i32,
    pub shifted: i32,
    pub shifted_back: u64,
    pub counts: [u32; 8],
    pub rotated: u64,
    pub rotated_small: i16,
    pub rotated_byte: u8,
    pub swapped: u64,
    pub swapped_small: i16,
    pub swapped_word: u32,
    pub reversed: u64,
    pub reversed_small: i8,
    pub signum: i32,
    pub signum_wide: i64,
    pub diff: u32,
    pub diff_small: u8,
    pub diff_wide: u64,
    pub saturated: [i32; 2],
    pub saturated_wide: [u64; 2],
    pub saturated_small: [i16; 2],
    pub saturated_byte: [u8; 2],
    pub saturated_signed_wide: [i64; 2],
    pub saturated_word: [u32; 2],
    pub big_endian: u64,
    pub little_endian: i16,
    pub from_big: u32,
    pub from_little: i64,
    pub power_of_two: bool,
    pub small_power: bool,
    pub positive: bool,
    pub negative: bool,
}

#[ring_kernel(id = "int-methods")]
fn int_methods(ctx: &mut RingContext, x: Ints) -> IntFacts {
    let counts = [
        x.u.count_zeros(),
        x.u.trailing_zeros(),
        x.h.trailing_zeros(),
        x.c.leading_ones(),
        x.v.trailing_ones(),
        x.a.leading_ones(),
        x.d.count_zeros(),
        x.l.trailing_ones(),
    ];
    IntFacts {
        quotient: x.a.wrapping_div(x.b),
        remainder: x.a.wrapping_rem(x.b),
        negated: x.a.wrapping_neg(),
        abs: x.b.wrapping_abs(),
        shifted: x.a.wrapping_shl(x.n),
        shifted_back: x.u.wrapping_shr(x.n),
        counts,
        rotated: x.u.rotate_left(x.n),
        rotated_small: x.h.rotate_right(x.n),
        rotated_byte: x.d.rotate_left(x.n % 11),
        swapped: x.u.swap_bytes(),
        swapped_small: x.h.swap_bytes(),
        swapped_word: x.n.swap_bytes(),
        reversed: x.u.reverse_bits(),
        reversed_small: x.c.reverse_bits(),
        signum: x.a.signum(),
        signum_wide: x.l.signum(),
        diff: x.a.abs_diff(x.b),
        diff_small: x.c.abs_diff(-x.c.wrapping_neg()),
        diff_wide: x.u.abs_diff(x.n as u64),
        saturated: [x.a.saturating_add(x.b), x.a.saturating_sub(x.b)],
        saturated_wide: [x.u.saturating_add(x.l as u64), x.u.saturating_sub(x.n as u64)],
        saturated_small: [x.h.saturating_add(x.h), x.h.saturating_sub(x.v as i16)],
        saturated_byte: [x.d.saturating_add(x.c as u8), x.d.saturating_sub(x.c as u8)],
        saturated_signed_wide: [x.l.saturating_add(x.u as i64), x.l.saturating_sub(x.u as i64)],
        saturated_word: [x.n.saturating_add(x.a as u32), x.n.saturating_sub(x.b as u32)],
        big_endian: x.u.to_be(),
        little_endian: x.h.to_le(),
        from_big: u32::from_be(x.n),
        from_little: i64::from_le(x.l),
        power_of_two: x.u.is_power_of_two(),
        small_power: x.v.is_power_of_two(),
        positive: x.h.is_positive(),
        negative: x.l.is_negative(),
    }
}
