//! Integer arithmetic, logic, shifts and bit manipulation (PTX ISA 9.7.1 "Integer Arithmetic
//! Instructions", 9.7.8 "Logic and Shift Instructions").
//!
//! Every function reads its inputs at the instruction's width (higher register bits are
//! ignored) and returns the result zero-extended to 64 bits.
//!
//! Division by zero is unspecified in the ISA. This VM defines it as NVIDIA hardware behaves:
//! `div` by zero gives all bits set (`-1` for signed types) and `rem` by zero gives the
//! dividend. `div.s` of MIN by -1 wraps to MIN and its `rem` is 0.

use crate::inst::{Carry, IntOp, IntTy, IntUnOp};

#[inline]
fn sx(ty: IntTy, v: u64) -> i64 {
    IntTy { signed: true, ..ty }.extend(v) as i64
}

#[inline]
pub(crate) fn binary(op: IntOp, ty: IntTy, a: u64, b: u64) -> u64 {
    let m = ty.mask();
    let bits = u32::from(ty.bits);
    let r = match op {
        IntOp::Add => a.wrapping_add(b),
        IntOp::Sub => a.wrapping_sub(b),
        IntOp::MulLo => a.wrapping_mul(b),
        IntOp::MulHi => {
            if ty.signed {
                ((i128::from(sx(ty, a)) * i128::from(sx(ty, b))) >> bits) as u64
            } else {
                ((u128::from(a & m) * u128::from(b & m)) >> bits) as u64
            }
        }
        IntOp::Div | IntOp::Rem => return div_rem(op, ty, a, b),
        IntOp::Min | IntOp::Max => {
            let less = if ty.signed { sx(ty, a) < sx(ty, b) } else { a & m < b & m };
            if less == (op == IntOp::Min) { a } else { b }
        }
        IntOp::And => a & b,
        IntOp::Or => a | b,
        IntOp::Xor => a ^ b,
        // Shift amounts are unsigned and clamped: shifting by the width or more gives 0 (or
        // the sign fill for `shr.s`), never the host's modulo behaviour (ISA 9.7.8.7/8).
        IntOp::Shl => {
            let n = b & 0xffff_ffff;
            if n >= u64::from(bits) { 0 } else { a << n }
        }
        IntOp::Shr => {
            let n = b & 0xffff_ffff;
            if ty.signed {
                (sx(ty, a) >> n.min(63)) as u64
            } else if n >= u64::from(bits) {
                0
            } else {
                (a & m) >> n
            }
        }
        IntOp::AddSat => (a as u32 as i32).saturating_add(b as u32 as i32) as u32 as u64,
        IntOp::SubSat => (a as u32 as i32).saturating_sub(b as u32 as i32) as u32 as u64,
    };
    r & m
}

fn div_rem(op: IntOp, ty: IntTy, a: u64, b: u64) -> u64 {
    let m = ty.mask();
    let r = if ty.signed {
        let (x, y) = (sx(ty, a), sx(ty, b));
        match (op, y) {
            (IntOp::Div, 0) => -1,
            (_, 0) => x,
            (IntOp::Div, _) => (i128::from(x) / i128::from(y)) as i64,
            _ => (i128::from(x) % i128::from(y)) as i64,
        }
    } else {
        let (x, y) = (a & m, b & m);
        match (op, y) {
            (IntOp::Div, 0) => -1,
            (_, 0) => x as i64,
            (IntOp::Div, _) => (x / y) as i64,
            _ => (x % y) as i64,
        }
    };
    r as u64 & m
}

/// `add.cc/addc/sub.cc/subc`: returns (result, carry out). Subtraction's CC.CF is the borrow.
pub(crate) fn carry(op: IntOp, c: Carry, ty: IntTy, a: u64, b: u64, cf: bool) -> (u64, bool) {
    let m = ty.mask();
    let (a, b) = (u128::from(a & m), u128::from(b & m));
    let cin = u128::from(c.read && cf);
    if op == IntOp::Add {
        let s = a + b + cin;
        ((s as u64) & m, s > u128::from(m))
    } else {
        let sub = b + cin;
        ((a.wrapping_sub(sub) as u64) & m, a < sub)
    }
}

pub(crate) fn mul_wide(ty: IntTy, a: u64, b: u64) -> u64 {
    if ty.signed {
        (sx(ty, a).wrapping_mul(sx(ty, b))) as u64
    } else {
        (a & ty.mask()).wrapping_mul(b & ty.mask())
    }
}

pub(crate) fn mul24(hi: bool, ty: IntTy, a: u64, b: u64) -> u64 {
    let t24 = IntTy { bits: 24, signed: ty.signed };
    let (x, y) = (t24.extend(a), t24.extend(b));
    let p = if ty.signed {
        (x as i64 as i128 * y as i64 as i128) as u128
    } else {
        u128::from(x) * u128::from(y)
    };
    (if hi { (p >> 16) as u64 } else { p as u64 }) & 0xffff_ffff
}

pub(crate) fn sad(ty: IntTy, a: u64, b: u64, c: u64) -> u64 {
    let d = if ty.signed {
        sx(ty, a).abs_diff(sx(ty, b))
    } else {
        (a & ty.mask()).abs_diff(b & ty.mask())
    };
    d.wrapping_add(c) & ty.mask()
}

pub(crate) fn unary(op: IntUnOp, ty: IntTy, a: u64) -> u64 {
    let m = ty.mask();
    let bits = u32::from(ty.bits);
    let a = a & m;
    match op {
        IntUnOp::Abs => (sx(ty, a).wrapping_abs() as u64) & m,
        IntUnOp::Neg => a.wrapping_neg() & m,
        IntUnOp::Not => !a & m,
        IntUnOp::Cnot => u64::from(a == 0),
        IntUnOp::Popc => u64::from(a.count_ones()),
        IntUnOp::Clz => u64::from(a.leading_zeros() - (64 - bits)),
        // The position of the most significant bit that differs from the sign (for signed
        // types) or is set (unsigned); 0xffffffff when there is none (ISA 9.7.1.17).
        IntUnOp::Bfind { shift_amount } => {
            let x = if ty.signed && (a >> (bits - 1)) & 1 == 1 { !a & m } else { a };
            if x == 0 {
                0xffff_ffff
            } else {
                let pos = 63 - u64::from(x.leading_zeros());
                if shift_amount { u64::from(bits) - 1 - pos } else { pos }
            }
        }
        IntUnOp::Brev => a.reverse_bits() >> (64 - bits),
    }
}

/// `bfe`: extract `len` bits at `pos` (both taken modulo 256), sign-filled for signed types
/// from the last extracted bit, or from the register's top bit when the field runs past it.
pub(crate) fn bfe(ty: IntTy, a: u64, pos: u64, len: u64) -> u64 {
    let msb = u64::from(ty.bits) - 1;
    let (pos, len) = (pos & 0xff, len & 0xff);
    let a = a & ty.mask();
    let sbit = if !ty.signed || len == 0 { 0 } else { (a >> (pos + len - 1).min(msb)) & 1 };
    let mut d = 0u64;
    for i in 0..=msb {
        let bit = if i < len && pos + i <= msb { (a >> (pos + i)) & 1 } else { sbit };
        d |= bit << i;
    }
    d
}

/// `bfi`: insert the low `len` bits of `a` into `b` at `pos` (each modulo 256).
pub(crate) fn bfi(ty: IntTy, a: u64, b: u64, pos: u64, len: u64) -> u64 {
    let msb = u64::from(ty.bits) - 1;
    let (pos, len) = (pos & 0xff, len & 0xff);
    let mut f = b & ty.mask();
    let mut i = 0;
    while i < len && pos + i <= msb {
        f = (f & !(1 << (pos + i))) | (((a >> i) & 1) << (pos + i));
        i += 1;
    }
    f
}

/// `prmt`: pick four bytes out of the eight of `{b, a}` (ISA 9.7.9.7).
pub(crate) fn prmt(a: u64, b: u64, c: u64, mode: Option<u8>) -> u64 {
    let bytes = (u64::from(b as u32) << 32) | u64::from(a as u32);
    let byte = |i: u64| (bytes >> (8 * (i & 7))) & 0xff;
    let mut d = 0u64;
    match mode {
        None => {
            for k in 0..4 {
                let sel = (c >> (4 * k)) & 0xf;
                let mut v = byte(sel & 7);
                if sel & 8 != 0 {
                    v = if v & 0x80 != 0 { 0xff } else { 0 };
                }
                d |= v << (8 * k);
            }
        }
        Some(m) => {
            // Byte indices for d.b0..d.b3, by mode and c[1:0].
            const TABLE: [[[u64; 4]; 4]; 6] = [
                [[0, 1, 2, 3], [1, 2, 3, 4], [2, 3, 4, 5], [3, 4, 5, 6]], // f4e
                [[0, 7, 6, 5], [1, 0, 7, 6], [2, 1, 0, 7], [3, 2, 1, 0]], // b4e
                [[0, 0, 0, 0], [1, 1, 1, 1], [2, 2, 2, 2], [3, 3, 3, 3]], // rc8
                [[0, 1, 2, 3], [1, 1, 2, 3], [2, 2, 2, 3], [3, 3, 3, 3]], // ecl
                [[0, 0, 0, 0], [0, 1, 1, 1], [0, 1, 2, 2], [0, 1, 2, 3]], // ecr
                [[0, 1, 0, 1], [2, 3, 2, 3], [0, 1, 0, 1], [2, 3, 2, 3]], // rc16
            ];
            let row = TABLE[usize::from(m)][(c & 3) as usize];
            for (k, &i) in row.iter().enumerate() {
                d |= byte(i) << (8 * k);
            }
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    const U32: IntTy = IntTy { bits: 32, signed: false };
    const S32: IntTy = IntTy { bits: 32, signed: true };

    #[test]
    fn shifts_clamp_at_the_width() {
        assert_eq!(binary(IntOp::Shl, U32, 1, 32), 0);
        assert_eq!(binary(IntOp::Shl, U32, 1, 31), 1 << 31);
        assert_eq!(binary(IntOp::Shr, U32, 0x8000_0000, 40), 0);
        assert_eq!(binary(IntOp::Shr, S32, 0x8000_0000, 40), 0xffff_ffff);
        assert_eq!(binary(IntOp::Shr, S32, 0x4000_0000, 0xffff_ffff), 0);
    }

    #[test]
    fn bfind_of_zero_and_of_negative_values() {
        let b = IntUnOp::Bfind { shift_amount: false };
        assert_eq!(unary(b, U32, 0), 0xffff_ffff);
        assert_eq!(unary(b, S32, 0xffff_ffff), 0xffff_ffff); // -1: no non-sign bit
        assert_eq!(unary(b, S32, 0xffff_fffe), 0); // -2: bit 0 differs from the sign
        assert_eq!(unary(b, U32, 0x8000_0000), 31);
        assert_eq!(unary(IntUnOp::Bfind { shift_amount: true }, U32, 0x8000_0000), 0);
    }

    #[test]
    fn prmt_default_and_modes() {
        // Selector 0x3210 is the identity; 0x7654 takes b; bit 3 replicates the sign.
        assert_eq!(prmt(0x4433_2211, 0x8877_6655, 0x3210, None), 0x4433_2211);
        assert_eq!(prmt(0x4433_2211, 0x8877_6655, 0x7654, None), 0x8877_6655);
        assert_eq!(prmt(0x0000_0080, 0, 0x4448, None), 0xff);
        assert_eq!(prmt(0x4433_2211, 0x8877_6655, 1, Some(0)), 0x5544_3322); // f4e
    }

    #[test]
    fn bfe_sign_fills_and_clamps() {
        assert_eq!(bfe(S32, 0x0000_00f0, 4, 4), 0xffff_ffff);
        assert_eq!(bfe(U32, 0x0000_00f0, 4, 4), 0xf);
        assert_eq!(bfe(S32, 0x8000_0000, 28, 8), 0xffff_fff8);
        assert_eq!(bfe(U32, 0xabcd, 0, 0), 0);
        assert_eq!(bfi(U32, 0xff, 0, 28, 8), 0xf000_0000);
    }

    #[test]
    fn division_by_zero_and_overflow_are_defined() {
        assert_eq!(binary(IntOp::Div, U32, 7, 0), 0xffff_ffff);
        assert_eq!(binary(IntOp::Rem, U32, 7, 0), 7);
        assert_eq!(binary(IntOp::Div, S32, 0x8000_0000, 0xffff_ffff), 0x8000_0000);
        assert_eq!(binary(IntOp::Rem, S32, 0x8000_0000, 0xffff_ffff), 0);
        assert_eq!(binary(IntOp::MulHi, S32, 0xffff_ffff, 0xffff_ffff), 0);
        assert_eq!(binary(IntOp::MulHi, U32, 0xffff_ffff, 0xffff_ffff), 0xffff_fffe);
    }

    #[test]
    fn carry_chain_adds_and_borrows() {
        let c = Carry { read: false, write: true };
        assert_eq!(carry(IntOp::Add, c, U32, 0xffff_ffff, 1, false), (0, true));
        assert_eq!(
            carry(IntOp::Add, Carry { read: true, write: true }, U32, 1, 1, true),
            (3, false)
        );
        assert_eq!(carry(IntOp::Sub, c, U32, 0, 1, false), (0xffff_ffff, true));
    }
}
