//! `match` on integers and `bool`: literals, ranges (closed, half-open, open-ended),
//! alternatives, bindings, guards, `T::MAX` / `T::MIN`; as a value, as a statement and with
//! arms that return; exhaustive over the whole type.

#[derive(RingMessage, Clone, Copy)]
#[repr(C)]
pub struct Code {
    pub op: u8,
    pub flag: bool,
    pub value: i32,
    pub wide: u64,
}

#[derive(RingMessage, Clone, Copy)]
#[repr(C)]
pub struct Decoded {
    pub class: u32,
    pub result: i32,
    pub bucket: i64,
    pub flags: u32,
}

#[ring_kernel(id = "matches")]
fn decode(ctx: &mut RingContext, c: Code) -> Decoded {
    let class = match c.op {
        0 => 10,
        1 | 2 | 3 => 20,
        4..=9 => 30,
        n @ 10..=99 if n % 2 == 0 => 40 + n as u32,
        10..=99 => 50,
        u8::MAX => 60,
        _ => 70,
    };
    let result = match c.value {
        i32::MIN..=-1 => -1,
        0 => 0,
        v if v > 1000 => v / 1000,
        v => v,
    };
    let mut flags = 0u32;
    match c.flag {
        true => flags += 1,
        false => {
            flags += 2;
            if c.wide > 5 {
                flags += 4;
            }
        }
    }
    let bucket = match c.wide {
        0..100 => 1i64,
        100..=999 => 2,
        1000.. => 3,
    };
    Decoded { class, result, bucket, flags }
}

#[ring_kernel(id = "match-return")]
fn early(ctx: &mut RingContext, x: i16) -> i16 {
    let y = match x {
        i16::MIN..=-100 => return i16::MIN,
        -99..=99 => x * 2,
        _ => return i16::MAX,
    };
    y + 1
}
