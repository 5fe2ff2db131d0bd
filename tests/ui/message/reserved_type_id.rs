use ringkernel::RingMessage;

#[derive(RingMessage, Clone, Copy)]
#[repr(C)]
#[message(type_id = 5)]
struct Small {
    x: u32,
}

fn main() {}
