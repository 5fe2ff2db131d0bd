//! `const` items: at module level and in a kernel's body (used before its declaration too),
//! scalars and arrays (a lookup table), consts defined from other consts and from the
//! primitives' constants.

const SCALE: u32 = 3;
const OFFSET: i64 = -(SCALE as i64) * 1000;
const SQUARES: [u32; 8] = [0, 1, 4, 9, 16, 25, 36, 49];
const LIMIT: f32 = f32::MAX / 4.0;

#[derive(RingMessage, Clone, Copy)]
#[repr(C)]
pub struct Lookup {
    pub index: u32,
    pub x: f32,
    pub wide: i64,
}

#[derive(RingMessage, Clone, Copy)]
#[repr(C)]
pub struct Looked {
    pub square: u32,
    pub scaled: u32,
    pub shifted: i64,
    pub clamped: f32,
    pub masked: u16,
}

#[ring_kernel(id = "const-items")]
fn look_up(ctx: &mut RingContext, l: Lookup) -> Looked {
    let masked = l.index as u16 & MASK;
    const MASK: u16 = 0x0ff0;
    Looked {
        square: SQUARES[(l.index % 10) as usize],
        scaled: l.index.wrapping_mul(SCALE) + TABLE_LEN,
        shifted: l.wide.wrapping_add(OFFSET),
        clamped: if l.x > LIMIT { LIMIT } else { l.x },
        masked,
    }
}

const TABLE_LEN: u32 = 8;
