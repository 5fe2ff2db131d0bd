//! `for x in array` (locals, message fields, consts) and `array.len()`.

const WEIGHTS: [i32; 4] = [3, -1, 4, -1];

#[derive(RingMessage, Clone, Copy)]
#[repr(C)]
pub struct Samples {
    pub values: [i32; 6],
    pub scale: i32,
}

#[derive(RingMessage, Clone, Copy)]
#[repr(C)]
pub struct Summary {
    pub sum: i32,
    pub weighted: i32,
    pub count: u32,
    pub positives: u32,
    pub longest: u64,
}

#[ring_kernel(id = "array-iter")]
fn summarize(ctx: &mut RingContext, s: Samples) -> Summary {
    let mut sum = 0i32;
    for v in s.values {
        sum = sum.wrapping_add(v);
    }
    let mut weighted = 0i32;
    for w in WEIGHTS {
        weighted = weighted.wrapping_add(w.wrapping_mul(s.scale));
    }
    let doubled = [s.scale, s.scale.wrapping_mul(2), 0];
    let mut positives = 0u32;
    'scan: for x in doubled {
        for v in s.values {
            if v > x {
                positives += 1;
                continue 'scan;
            }
        }
    }
    Summary {
        sum,
        weighted,
        count: s.values.len() as u32,
        positives,
        longest: (s.values.len() + doubled.len() + WEIGHTS.len()) as u64,
    }
}
