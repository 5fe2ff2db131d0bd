use ringkernel::RingMessage;

#[derive(RingMessage, Clone, Copy)]
#[repr(C)]
struct Point(f32, f32);

fn main() {}
