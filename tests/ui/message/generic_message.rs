use ringkernel::RingMessage;

#[derive(RingMessage, Clone, Copy)]
#[repr(C)]
struct Wrapper<T> {
    value: T,
}

fn main() {}
