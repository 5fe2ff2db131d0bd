// Every macro used as documented compiles, with the PTX build.rs would produce.
use std::sync::Arc;

use ringkernel::{device, ring_kernel, rule, GpuKernel, Hlc, RingContext, RingMessage};

#[derive(RingMessage, Clone, Copy, Debug, PartialEq)]
#[repr(C)]
#[message(type_id = 90210)]
pub struct Reading {
    pub sensor: u16,
    pub value: f32,
    pub history: [f32; 4],
}

#[derive(RingMessage, Clone, Copy, Debug, PartialEq)]
#[repr(C)]
pub struct Stats {
    pub count: u32,
    pub peak: f32,
}

#[device]
fn clamp(x: f32, limit: f32) -> f32 {
    if x > limit { limit } else { x }
}

#[ring_kernel(id = "ui-stats", queue_capacity = 64, block_size = 32)]
async fn stats(_ctx: &mut RingContext, s: &mut Stats, r: Reading) -> f32 {
    s.count += 1;
    s.peak = s.peak.max(clamp(r.value, 1000.0));
    s.peak
}

#[rule(id = "ui-threshold", version = 3, compute_cap = "sm_80", depends_on = ["ui-stats"])]
fn threshold(ctx: &mut RingContext, r: Reading) -> bool {
    r.value > 10.0 && ctx.message_seq() > 0
}

fn main() {
    let mut ctx = RingContext::new("ui", 0, Arc::new(Hlc::new(0)));
    let mut s = Stats { count: 0, peak: 0.0 };
    let reading = Reading { sensor: 1, value: 5000.0, history: [0.0; 4] };
    let _ = stats(&mut ctx, &mut s, reading);
    assert!(!threshold(&mut ctx, reading));
    assert_eq!(StatsKernel::default().id(), "ui-stats");
    assert_eq!(ThresholdRule::compiled().depends_on, ["ui-stats"]);
    assert_eq!(Reading::TYPE_ID, 90210);
}
