//! bool values: locals, comparisons of bools, bitwise operators on bools, bool fields.

#[derive(RingMessage, Clone, Copy)]
#[repr(C)]
pub struct Flags {
    pub a: bool,
    pub b: bool,
    pub n: u8,
}

#[ring_kernel(id = "bool-logic")]
fn bool_logic(ctx: &mut RingContext, f: Flags) -> Flags {
    let same = f.a == f.b;
    let mixed = f.a ^ f.b;
    let any = f.a | (f.n > 3);
    Flags { a: same & !mixed, b: any != same, n: (same as u8) + (mixed as u8) * 2 + (any as u8) * 4 }
}
