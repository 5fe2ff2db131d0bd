use ringkernel::RingMessage;

const BASE: u8 = 4;

// Every problem at once: a variant with data, one with fields, a computed discriminant.
#[derive(RingMessage, Clone, Copy)]
#[repr(u8)]
enum Op {
    Add = 1,
    Push(u32),
    Move { x: i32 },
    Sub = BASE + 1,
}

fn main() {}
