use ringkernel::RingMessage;

#[derive(RingMessage, Clone, Copy)]
struct Everything {
    name: String,
    values: Vec<f32>,
}

fn main() {}
