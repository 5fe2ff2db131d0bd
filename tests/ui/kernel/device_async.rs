use ringkernel::device;

#[device]
async fn helper(x: u32) -> u32 {
    x
}

fn main() {}
