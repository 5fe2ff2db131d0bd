use ringkernel::{device, RingMessage};

#[derive(RingMessage, Clone, Copy)]
#[repr(C)]
pub struct Point {
    pub x: i32,
    pub y: i32,
}

impl Point {
    #[device]
    fn shift(&mut self, by: i32) {
        self.x += by;
    }
}

fn main() {}
