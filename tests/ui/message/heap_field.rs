use ringkernel::RingMessage;

#[derive(RingMessage, Clone, Copy)]
#[repr(C)]
struct Batch {
    items: Vec<u32>,
}

fn main() {}
