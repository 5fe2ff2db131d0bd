use ringkernel::RingMessage;

#[derive(RingMessage, Clone, Copy)]
#[repr(C)]
enum Command {
    Start,
    Stop,
}

fn main() {}
