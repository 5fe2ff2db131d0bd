use ringkernel::RingMessage;

#[derive(RingMessage, Clone, Copy)]
struct Deposit {
    amount: i64,
}

fn main() {}
