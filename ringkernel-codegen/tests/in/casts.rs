//! Every kind of `as` cast, with Rust's saturating float-to-integer semantics.

#[derive(RingMessage, Clone, Copy)]
#[repr(C)]
pub struct Mixed {
    pub f: f32,
    pub d: f64,
    pub i: i64,
    pub b: bool,
}

#[derive(RingMessage, Clone, Copy)]
#[repr(C)]
pub struct Converted {
    pub f_to_u8: u8,
    pub f_to_i16: i16,
    pub d_to_i32: i32,
    pub d_to_u64: u64,
    pub i_to_f32: f32,
    pub i_to_u8: u8,
    pub i_to_i8: i8,
    pub b_to_u32: u32,
    pub f_to_d: f64,
    pub d_to_f: f32,
    pub u8_to_i64: i64,
}

#[ring_kernel(id = "casts")]
fn casts(ctx: &mut RingContext, m: Mixed) -> Converted {
    let byte = m.i as u8;
    Converted {
        f_to_u8: m.f as u8,
        f_to_i16: m.f as i16,
        d_to_i32: m.d as i32,
        d_to_u64: m.d as u64,
        i_to_f32: m.i as f32,
        i_to_u8: byte,
        i_to_i8: m.i as i8,
        b_to_u32: m.b as u32,
        f_to_d: m.f as f64,
        d_to_f: m.d as f32,
        u8_to_i64: byte as i64,
    }
}
