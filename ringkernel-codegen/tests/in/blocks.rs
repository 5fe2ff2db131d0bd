//! Block expressions, shadowing, deferred initialisation.

#[ring_kernel(id = "blocks")]
fn blocks(ctx: &mut RingContext, x: i64) -> i64 {
    let y = {
        let t = x * 2;
        t + 1
    };
    let z;
    if y > 0 {
        z = y;
    } else {
        z = -y;
    }
    let y = y + z;
    {
        let w = y / 3;
        w - x
    }
}
