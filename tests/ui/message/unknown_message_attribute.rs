use ringkernel::RingMessage;

#[derive(RingMessage, Clone, Copy)]
#[repr(C)]
#[message(kind = 3)]
struct Tagged {
    x: u32,
}

fn main() {}
