use ringkernel::device;

#[device]
fn helper(name: String) -> u32 {
    1
}

fn main() {}
