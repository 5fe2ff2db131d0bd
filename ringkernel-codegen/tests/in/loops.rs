//! `while`, `loop` with `break`/`continue`, nested `for` loops with early exits.

#[ring_kernel(id = "collatz")]
fn collatz(ctx: &mut RingContext, start: u64) -> u32 {
    let mut n = start;
    let mut steps = 0u32;
    while n > 1 && steps < 1000 {
        n = if n % 2 == 0 { n / 2 } else { 3 * n + 1 };
        steps += 1;
    }
    steps
}

// `d > n / d`, not `d * d > n`: with wrapping arithmetic `d * d` wraps to 0 at d = 65536 and a
// prime n above 65535² would loop about 2^32 times.
#[ring_kernel(id = "first-divisor")]
fn first_divisor(ctx: &mut RingContext, n: u32) -> u32 {
    let mut d = 2u32;
    loop {
        if d > n / d {
            break;
        }
        if n % d != 0 {
            d += 1;
            continue;
        }
        return d;
    }
    n
}

#[ring_kernel(id = "pairs")]
fn count_pairs(ctx: &mut RingContext, limit: u32) -> u32 {
    let mut count = 0;
    for i in 0..limit {
        if i > 50 {
            break;
        }
        for j in i..=limit {
            if (i + j) % 3 == 0 {
                continue;
            }
            if j > 40 {
                break;
            }
            count += 1;
        }
    }
    count
}
