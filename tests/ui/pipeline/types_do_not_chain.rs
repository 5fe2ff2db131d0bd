// A stage whose messages are not the previous stage's responses does not compile.
use ringkernel::prelude::*;

#[derive(RingMessage, Clone, Copy)]
#[repr(C)]
pub struct Celsius {
    pub degrees: f32,
}

#[derive(RingMessage, Clone, Copy)]
#[repr(C)]
pub struct Alarm {
    pub level: u32,
}

#[ring_kernel(id = "ui-to-celsius")]
fn to_celsius(_ctx: &mut RingContext, fahrenheit: f32) -> Celsius {
    Celsius { degrees: (fahrenheit - 32.0) * 5.0 / 9.0 }
}

#[ring_kernel(id = "ui-alarm")]
fn alarm(_ctx: &mut RingContext, level: u32) -> Alarm {
    Alarm { level }
}

fn main() {
    let runtime = Runtime::builder().backend(Backend::Cpu).build().unwrap();
    // `alarm` takes `u32`, but `to_celsius` answers `Celsius`.
    let _ = runtime.pipeline(ToCelsiusKernel).then(AlarmKernel).launch();
}
