use ringkernel::RingMessage;

// `#[repr(C)]` does not fix an enum's size the way an integer repr does.
#[derive(RingMessage, Clone, Copy)]
#[repr(C)]
enum Command {
    Start,
    Stop,
}

fn main() {}
