//! `#[derive(RingMessage)]` on real structs: layouts are rustc's, encoding round-trips and
//! writes padding as zeros, type ids are stable.

use core::mem::{align_of, offset_of, size_of};

use ringkernel::{MessageError, RingMessage};

#[derive(RingMessage, Clone, Copy, Debug, PartialEq)]
#[repr(C)]
struct Inner {
    flag: bool,
    value: f64,
}

#[derive(RingMessage, Clone, Copy, Debug, PartialEq)]
#[repr(C)]
struct Outer {
    tag: u8,
    inner: Inner,
    samples: [i16; 3],
    total: u64,
}

#[derive(RingMessage, Clone, Copy, Debug, PartialEq)]
#[repr(C)]
#[message(type_id = 4242)]
struct Pinned {
    x: u32,
}

fn sample() -> Outer {
    Outer { tag: 7, inner: Inner { flag: true, value: -1.5 }, samples: [1, -2, 3], total: u64::MAX }
}

#[test]
fn layout_is_what_rustc_chose() {
    let layout = Outer::LAYOUT;
    assert_eq!(
        (layout.size as usize, layout.align as usize),
        (size_of::<Outer>(), align_of::<Outer>())
    );
    let offsets: Vec<usize> = layout.fields.iter().map(|f| f.offset as usize).collect();
    assert_eq!(
        offsets,
        [
            offset_of!(Outer, tag),
            offset_of!(Outer, inner),
            offset_of!(Outer, samples),
            offset_of!(Outer, total)
        ]
    );
    let names: Vec<&str> = layout.fields.iter().map(|f| f.name).collect();
    assert_eq!(names, ["tag", "inner", "samples", "total"]);
    assert_eq!(layout.fields[1].size as usize, size_of::<Inner>());
}

#[test]
fn encoding_round_trips_and_zeroes_padding() {
    let bytes = sample().to_bytes();
    assert_eq!(bytes.len(), size_of::<Outer>());
    assert_eq!(Outer::decode(&bytes), Ok(sample()));
    // Padding between `tag` and `inner`, and inside `inner` after `flag`, is zero.
    let inner_at = offset_of!(Outer, inner);
    assert!(bytes[1..inner_at].iter().all(|b| *b == 0));
    assert!(bytes[inner_at + 1..inner_at + offset_of!(Inner, value)].iter().all(|b| *b == 0));
    // Encoding into a dirty buffer gives the same bytes.
    let mut dirty = vec![0xAA; bytes.len()];
    sample().encode(&mut dirty).unwrap();
    assert_eq!(dirty, bytes);
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    assert_eq!(
        Outer::decode(&[0; 3]),
        Err(MessageError::WrongSize {
            type_name: "Outer",
            expected: size_of::<Outer>(),
            actual: 3
        })
    );
    let mut bytes = sample().to_bytes();
    bytes[offset_of!(Outer, inner)] = 2;
    assert!(matches!(Outer::decode(&bytes), Err(MessageError::InvalidValue { .. })));
    assert!(sample().encode(&mut [0u8; 5]).is_err());
}

#[test]
fn type_ids_are_stable_unique_and_overridable() {
    assert_eq!(Pinned::TYPE_ID, 4242);
    assert_ne!(Outer::TYPE_ID, Inner::TYPE_ID);
    const { assert!(Outer::TYPE_ID >= 1 << 63) };
    // The documented formula: FNV-1a of "<module path>::<name>" with the top bit set.
    assert_eq!(
        Outer::TYPE_ID,
        ringkernel::__private::type_id_of(concat!(module_path!(), "::Outer"))
    );
}

#[derive(RingMessage, Clone, Copy, Debug, PartialEq)]
#[repr(C)]
struct Dense {
    a: u32,
    b: [u16; 2],
    pinned: Pinned,
}

#[test]
fn byte_views_exist_exactly_for_padding_free_types() {
    let dense = Dense { a: 0x0102_0304, b: [5, 6], pinned: Pinned { x: 7 } };
    let view = dense.as_bytes().expect("Dense has no padding");
    assert_eq!(view, dense.to_bytes().as_slice(), "the view and the encoding agree");
    assert!(sample().as_bytes().is_none(), "Outer has padding: no view");
    assert!(Inner { flag: true, value: 1.0 }.as_bytes().is_none());
    assert_eq!(Dense::from_bytes(view), Ok(dense));
}
