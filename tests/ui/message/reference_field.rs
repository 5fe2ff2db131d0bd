use ringkernel::RingMessage;

#[derive(RingMessage, Clone, Copy)]
#[repr(C)]
struct Borrowed<'a> {
    value: &'a u32,
}

fn main() {}
