//! Diagnostics snapshots: each kind of misuse gives one precise error (no cascades) with a
//! `file:line:col` location and a help line. Snapshots are inline; review any change.

use ringkernel_codegen::{Options, compile_source};

fn diagnose(name: &str, src: &str) -> String {
    let opts = Options { compute_cap: "sm_70".into(), file_name: Some(format!("{name}.rs")) };
    match compile_source(src, &opts) {
        Ok(_) => panic!("{name}: compiled, expected an error"),
        Err(diagnostics) => diagnostics.to_string(),
    }
}

macro_rules! snapshot {
    ($name:ident, $src:expr, $expected:expr) => {
        #[test]
        fn $name() {
            assert_eq!(diagnose(stringify!($name), $src), $expected);
        }
    };
}

snapshot!(
    missing_repr_c,
    r#"#[derive(RingMessage)]
struct Msg { a: u32 }
#[ring_kernel(id = "k")]
fn k(ctx: &mut RingContext, m: Msg) -> u32 { m.a }"#,
    r#"error: `Msg` derives RingMessage but is not `#[repr(C)]`
  --> missing_repr_c.rs:2:8
  = help: add `#[repr(C)]` so that the CPU and the GPU agree on its layout"#
);

snapshot!(
    heap_field_type,
    r#"#[derive(RingMessage)]
#[repr(C)]
struct Msg { items: Vec<u32> }"#,
    r#"error: `Vec<...>` is not a DSL type: generic and heap types are not supported on the GPU
  --> heap_field_type.rs:3:21
  = help: use a scalar (bool, i8..i64, u8..u64, isize, usize, f32, f64), a fixed array `[T; N]` or a #[derive(RingMessage)] struct"#
);

snapshot!(
    generic_handler,
    r#"#[ring_kernel(id = "k")]
fn k<T>(ctx: &mut RingContext, x: u32) -> u32 { x }"#,
    r#"error: `k` is generic; kernels and device functions cannot be
  --> generic_handler.rs:2:5
  = help: use concrete types"#
);

snapshot!(
    wrong_parameter_order,
    r#"#[ring_kernel(id = "k")]
fn k(x: u32, ctx: &mut RingContext) -> u32 { x }"#,
    r#"error: a handler takes `ctx: &mut RingContext`, an optional `&mut` state and the message, in that order
  --> wrong_parameter_order.rs:2:6
  = help: write `fn name(ctx: &mut RingContext, [state: &mut State,] msg: Message) -> Response`"#
);

snapshot!(
    missing_id,
    r#"#[ring_kernel(queue_capacity = 64)]
fn k(ctx: &mut RingContext, x: u32) -> u32 { x }"#,
    r#"error: `#[ring_kernel]` needs an `id`
  --> missing_id.rs:1:1
  = help: write `#[ring_kernel(id = "my-kernel", ...)]`"#
);

snapshot!(
    rule_without_version,
    r#"#[rule(id = "r")]
fn r(ctx: &mut RingContext, x: u32) -> u32 { x }"#,
    r#"error: `#[rule]` needs a `version`
  --> rule_without_version.rs:1:1
  = help: write `version = 1` (and raise it for every new release)"#
);

snapshot!(
    unknown_attribute,
    r#"#[ring_kernel(id = "k", queue_size = 64)]
fn k(ctx: &mut RingContext, x: u32) -> u32 { x }"#,
    r#"error: unknown `ring_kernel` argument `queue_size`; valid: `id`, `version`, `compute_cap`, `depends_on`, `queue_capacity`, `block_size`, `grid_size`, `shared_memory_bytes`, `idle_backoff_ns`, `fast_math`, `max_steps`
  --> unknown_attribute.rs:1:25
  = help: write `#[ring_kernel(id = "...")]`"#
);

snapshot!(
    zero_budget,
    r#"#[ring_kernel(id = "k", max_steps = 0)]
fn k(ctx: &mut RingContext, x: u32) -> u32 { x }"#,
    r#"error: `max_steps` must be a whole number from 1 to 4294967295 (loop iterations per message)
  --> zero_budget.rs:1:37"#
);

snapshot!(
    await_in_body,
    r#"#[ring_kernel(id = "k")]
async fn k(ctx: &mut RingContext, x: u32) -> u32 { helper().await }"#,
    r#"error: `.await` is not supported in kernel bodies
  --> await_in_body.rs:2:52
  = help: handlers may be `async fn`, but their bodies run to completion on the GPU: remove `.await`"#
);

snapshot!(
    heap_value_in_body,
    r#"#[ring_kernel(id = "k")]
fn k(ctx: &mut RingContext, x: u32) -> u32 {
    let v = Vec::new();
    x
}"#,
    r#"error: only `#[device]` functions can be called
  --> heap_value_in_body.rs:3:13
  = help: call a `#[device] fn` by its name"#
);

snapshot!(
    closure,
    r#"#[ring_kernel(id = "k")]
fn k(ctx: &mut RingContext, x: u32) -> u32 {
    let f = |y: u32| y + 1;
    x
}"#,
    r#"error: closures are not supported in kernels
  --> closure.rs:3:13
  = help: write a `#[device] fn` and call it"#
);

snapshot!(
    println_macro,
    r#"#[ring_kernel(id = "k")]
fn k(ctx: &mut RingContext, x: u32) -> u32 {
    println!("{}", x);
    x
}"#,
    r#"error: macros like `println!` are not supported in kernels
  --> println_macro.rs:3:5
  = help: kernels run on the GPU: no printing, formatting or panicking; record results in the state or response"#
);

snapshot!(
    non_exhaustive_match,
    r#"#[ring_kernel(id = "k")]
fn k(ctx: &mut RingContext, x: u32) -> u32 {
    match x { 0 => 1, 2..=9 => 2 }
}"#,
    r#"error: non-exhaustive `match`: `1_u32` is not covered
  --> non_exhaustive_match.rs:3:11
  = help: add an arm for it, or a last arm `_ => ...` (arms with `if` guards do not count)"#
);

snapshot!(
    mismatched_types,
    r#"#[ring_kernel(id = "k")]
fn k(ctx: &mut RingContext, x: u32) -> u32 {
    let y = 1.5f32;
    x + y
}"#,
    r#"error: mismatched types on the two sides of the operator: `u32` and `f32`
  --> mismatched_types.rs:4:5
  = help: make both sides the same type, with `as` where a conversion is meant"#
);

snapshot!(
    unknown_field,
    r#"#[derive(RingMessage)]
#[repr(C)]
struct Msg { a: u32, b: u32 }
#[ring_kernel(id = "k")]
fn k(ctx: &mut RingContext, m: Msg) -> u32 { m.c }"#,
    r#"error: struct `Msg` has no field `c`
  --> unknown_field.rs:5:46
  = help: its fields are `a`, `b`"#
);

snapshot!(
    assign_to_immutable,
    r#"#[ring_kernel(id = "k")]
fn k(ctx: &mut RingContext, x: u32) -> u32 {
    let y = 1;
    y = x;
    y
}"#,
    r#"error: cannot assign twice to immutable variable `y`
  --> assign_to_immutable.rs:4:5
  = help: declare it `let mut`"#
);

snapshot!(
    use_before_assignment,
    r#"#[ring_kernel(id = "k")]
fn k(ctx: &mut RingContext, x: u32) -> u32 {
    let y: u32;
    if x > 3 { y = 1; }
    y
}"#,
    r#"error: `y` is used before it is assigned
  --> use_before_assignment.rs:5:5
  = help: give it a value on every path before reading it"#
);

snapshot!(
    recursion,
    r#"#[device]
fn fact(n: u32) -> u32 { if n == 0 { 1 } else { n * fact(n - 1) } }
#[ring_kernel(id = "k")]
fn k(ctx: &mut RingContext, x: u32) -> u32 { fact(x) }"#,
    r#"error: `fact` calls itself (directly or through other helpers)
  --> recursion.rs:2:4
  = help: recursion is not supported on the GPU; use a loop"#
);

snapshot!(
    ambiguous_method_receiver,
    r#"#[ring_kernel(id = "k")]
fn k(ctx: &mut RingContext, x: u32) -> u32 {
    let y = 7;
    y.count_ones()
}"#,
    r#"error: can't call method `count_ones` on `{integer}`
  --> ambiguous_method_receiver.rs:4:5
  = help: math methods need a known scalar type: add a suffix (`2.0_f32`) or annotate the variable"#
);

snapshot!(
    literal_out_of_range,
    r#"#[ring_kernel(id = "k")]
fn k(ctx: &mut RingContext, x: u8) -> u8 { x + 300 }"#,
    r#"error: literal out of range for `u8`
  --> literal_out_of_range.rs:2:48
  = help: the largest `u8` is 255"#
);

snapshot!(
    break_outside_loop,
    r#"#[ring_kernel(id = "k")]
fn k(ctx: &mut RingContext, x: u32) -> u32 {
    break;
    x
}"#,
    r#"error: `break` outside of a loop
  --> break_outside_loop.rs:3:5
  = help: use `return` to leave the function"#
);

snapshot!(
    float_remainder,
    r#"#[ring_kernel(id = "k")]
fn k(ctx: &mut RingContext, x: f32) -> f32 { x % 2.0 }"#,
    r#"error: `%` is not defined for `f32`
  --> float_remainder.rs:2:46
  = help: float `%` is not supported on the GPU yet; use `x - y * (x / y).floor()`"#
);

snapshot!(
    math_function_arity,
    r#"#[ring_kernel(id = "k")]
fn k(ctx: &mut RingContext, x: f64) -> f64 { x.atan2() }"#,
    r#"error: `atan2` takes 1 argument(s), 0 given
  --> math_function_arity.rs:2:46
  = help: fix the argument count"#
);

snapshot!(
    math_function_on_an_integer,
    r#"#[ring_kernel(id = "k")]
fn k(ctx: &mut RingContext, x: u32) -> u32 { x.cbrt() }"#,
    r#"error: no method `cbrt` on `u32`
  --> math_function_on_an_integer.rs:2:46
  = help: `cbrt` is a float function: convert first, `(x as f64).cbrt(..)`"#
);

snapshot!(
    reference_in_body,
    r#"#[ring_kernel(id = "k")]
fn k(ctx: &mut RingContext, x: u32) -> u32 {
    let r = &x;
    x
}"#,
    r#"error: references are not supported in kernels
  --> reference_in_body.rs:3:13
  = help: pass and copy values; only the handler's state is a reference"#
);

snapshot!(
    unknown_variable,
    r#"#[ring_kernel(id = "k")]
fn k(ctx: &mut RingContext, x: u32) -> u32 { x + total }"#,
    r#"error: cannot find value `total` in this kernel
  --> unknown_variable.rs:2:50
  = help: declare it with `let` first, or mark the helper `#[device]`"#
);

snapshot!(
    non_device_call,
    r#"fn helper(x: u32) -> u32 { x }
#[ring_kernel(id = "k")]
fn k(ctx: &mut RingContext, x: u32) -> u32 { helper(x) }"#,
    r#"error: `helper` is not a `#[device]` function in this source
  --> non_device_call.rs:3:46
  = help: mark the helper `#[device]`; other functions cannot run on the GPU"#
);

snapshot!(
    message_is_read_only,
    r#"#[derive(RingMessage)]
#[repr(C)]
struct Msg { a: u32 }
#[ring_kernel(id = "k")]
fn k(ctx: &mut RingContext, m: Msg) -> u32 {
    m.a = 3;
    m.a
}"#,
    r#"error: the message `m` is read-only
  --> message_is_read_only.rs:6:5
  = help: copy what you need into a `let mut` variable"#
);

snapshot!(
    several_errors_at_once,
    r#"#[ring_kernel(id = "k")]
fn k(ctx: &mut RingContext, x: u32) -> u32 {
    let a = x + 1.0;
    let b = undefined;
    println!("hi");
    x
}"#,
    r#"error: mismatched types on the two sides of the operator: `u32` and `{float}`
  --> several_errors_at_once.rs:3:13
  = help: make both sides the same type, with `as` where a conversion is meant
error: cannot find value `undefined` in this kernel
  --> several_errors_at_once.rs:4:13
  = help: declare it with `let` first, or mark the helper `#[device]`
error: macros like `println!` are not supported in kernels
  --> several_errors_at_once.rs:5:5
  = help: kernels run on the GPU: no printing, formatting or panicking; record results in the state or response"#
);

snapshot!(
    oversized_local_array,
    r#"#[ring_kernel(id = "k")]
fn k(ctx: &mut RingContext, x: u32) -> u32 {
    let a = [x; 4000000000];
    a[7]
}"#,
    r#"error: `k` needs 4294967295 bytes of local memory per thread for its arrays and temporaries; the GPU allows 524288
  --> oversized_local_array.rs:2:4
  = help: targets are sm_70 to sm_121; per-thread arrays and temporaries must fit in 512 KiB"#
);

/// Each source has one mistake and must give exactly one error, the one named.
#[test]
fn one_error_per_mistake_no_follow_ups() {
    let cases = [
        (
            "method_in_struct_literal",
            r#"#[derive(RingMessage)]
#[repr(C)]
struct R { a: u32, b: u32 }
#[ring_kernel(id = "k")]
fn k(ctx: &mut RingContext, x: u32) -> R { R { a: x.checked_add(1), b: x } }"#,
            "`checked_add` returns an `Option`, which kernels do not have",
        ),
        (
            "rejected_let_initialiser",
            r#"#[ring_kernel(id = "k")]
fn k(ctx: &mut RingContext, x: u32) -> u32 {
    let y = x.checked_add(1);
    y + 1
}"#,
            "`checked_add` returns an `Option`, which kernels do not have",
        ),
        (
            "const_cycle",
            r#"const A: u32 = B + 1;
const B: u32 = A * 2;
#[ring_kernel(id = "k")]
fn k(ctx: &mut RingContext, x: u32) -> u32 { x + A }"#,
            "`A` is defined in terms of itself",
        ),
        (
            "const_of_the_wrong_type",
            r#"const LIMIT: u8 = 3.5;
#[ring_kernel(id = "k")]
fn k(ctx: &mut RingContext, x: u8) -> u8 { x + LIMIT }"#,
            "for `const LIMIT`",
        ),
        (
            "for_over_a_scalar",
            r#"#[ring_kernel(id = "k")]
fn k(ctx: &mut RingContext, x: u32) -> u32 {
    let mut n = 0u32;
    for v in x { n += v; }
    n
}"#,
            "`for` loops iterate over ranges and arrays, not `u32`",
        ),
        (
            "len_of_a_scalar",
            r#"#[ring_kernel(id = "k")]
fn k(ctx: &mut RingContext, x: u32) -> u32 { x.len() as u32 }"#,
            "`len()` is for arrays, not `u32`",
        ),
        (
            "unknown_loop_label",
            r#"#[ring_kernel(id = "k")]
fn k(ctx: &mut RingContext, x: u32) -> u32 {
    'a: for i in 0..x { if i > 3 { break 'b; } }
    x
}"#,
            "no enclosing loop is labelled `'b`",
        ),
        (
            "break_with_value_from_while",
            r#"#[ring_kernel(id = "k")]
fn k(ctx: &mut RingContext, x: u32) -> u32 {
    let mut i = 0u32;
    while i < 10 { i += 1; if i > x { break i; } }
    i
}"#,
            "`break` with a value only leaves a `loop` whose value is used",
        ),
        (
            "method_in_call_argument",
            r#"#[device]
fn twice(v: u32) -> u32 { v * 2 }
#[ring_kernel(id = "k")]
fn k(ctx: &mut RingContext, x: u32) -> u32 { twice(x.checked_add(1)) }"#,
            "`checked_add` returns an `Option`, which kernels do not have",
        ),
    ];
    for (name, src, expected) in cases {
        let text = diagnose(name, src);
        assert_eq!(text.matches("error:").count(), 1, "{name}: one error expected, got:\n{text}");
        assert!(text.contains(expected), "{name}: expected `{expected}`, got:\n{text}");
    }
}

/// A `match` that misses values names the first one, whatever the type; guarded arms do not
/// count; an unsupported pattern says what to write instead. One error each.
#[test]
fn non_exhaustive_matches_name_the_missing_value() {
    let kernel = |param: &str, body: &str| {
        format!(
            "#[ring_kernel(id = \"k\")]\nfn k(ctx: &mut RingContext, x: {param}) -> u32 {{\n    {body}\n}}"
        )
    };
    let cases = [
        (
            kernel("u32", "match x { 0 => 1, 1..=5 => 2 }"),
            "non-exhaustive `match`: `6_u32` is not covered",
        ),
        (kernel("bool", "match x { true => 1 }"), "non-exhaustive `match`: `false` is not covered"),
        (
            kernel("i8", "match x { 0..=127 => 1 }"),
            "non-exhaustive `match`: `i8::MIN` is not covered",
        ),
        (
            kernel("u8", "match x { n if n > 0 => 1, 0 => 2 }"),
            "non-exhaustive `match`: `1_u8` is not covered",
        ),
        (
            kernel("u64", "match x { 0..10 => 1, 11.. => 2 }"),
            "non-exhaustive `match`: `10_u64` is not covered",
        ),
        (
            kernel("i16", "match x { 0 => 1, i16::MIN..=-1 => 2, 1..i16::MAX => 3 }"),
            "non-exhaustive `match`: `i16::MAX` is not covered",
        ),
        (kernel("f32", "match x { _ => 1 }"), "`match` on floats is not supported"),
        (
            kernel("u32", "match x { 300u8 => 1, _ => 2 }"),
            "mismatched types: a `u8` pattern for a `u32` value",
        ),
        (
            kernel("u32", "match x { true => 1, _ => 2 }"),
            "mismatched types: a `bool` pattern for a `u32` value",
        ),
        (kernel("u8", "match x { 300 => 1, _ => 2 }"), "`300` is out of range for `u8`"),
        (kernel("u32", "match x { 9..=3 => 1, _ => 2 }"), "this range pattern matches nothing"),
        (kernel("u32", "match x { (a, b) => 1 }"), "this pattern is not supported in `match`"),
    ];
    for (src, expected) in cases {
        let text = diagnose("match_case", &src);
        assert_eq!(text.matches("error:").count(), 1, "{src}\none error expected, got:\n{text}");
        assert!(text.contains(expected), "{src}\nexpected `{expected}`, got:\n{text}");
    }
}

snapshot!(
    tuple_as_response_or_field,
    r#"#[derive(RingMessage)]
#[repr(C)]
struct Msg { pair: (u32, u32) }
#[ring_kernel(id = "k")]
fn k(ctx: &mut RingContext, x: u32) -> (u32, u32) {
    let t = (x, x);
    t
}"#,
    r#"error: a tuple cannot be a message or a message field: Rust does not fix its layout
  --> tuple_as_response_or_field.rs:3:20
  = help: use a #[derive(RingMessage)] #[repr(C)] struct with named fields
error: a handler cannot return a tuple: Rust does not fix its layout
  --> tuple_as_response_or_field.rs:5:40
  = help: return a #[derive(RingMessage)] #[repr(C)] struct with named fields"#
);

snapshot!(
    tuple_pattern_of_a_scalar,
    r#"#[ring_kernel(id = "k")]
fn k(ctx: &mut RingContext, x: u32) -> u32 {
    let (a, b) = x;
    a
}"#,
    r#"error: expected a tuple of 2 parts to destructure, found `u32`
  --> tuple_pattern_of_a_scalar.rs:3:18
  = help: the pattern needs one name (or `_`) per part"#
);

snapshot!(
    assigned_on_some_breaks_only,
    r#"#[ring_kernel(id = "k")]
fn k(ctx: &mut RingContext, x: u32) -> u32 {
    let y;
    loop {
        if x > 3 {
            y = x;
            break;
        }
        break;
    }
    y
}"#,
    r#"error: `y` is used before it is assigned
  --> assigned_on_some_breaks_only.rs:11:5
  = help: give it a value on every path before reading it"#
);

snapshot!(
    unknown_struct_method,
    r#"#[derive(RingMessage, Clone, Copy)]
#[repr(C)]
pub struct Point { pub x: i32, pub y: i32 }
#[ring_kernel(id = "k")]
fn k(ctx: &mut RingContext, p: Point) -> i32 { p.norm() }"#,
    r#"error: no method `norm` on `Point`
  --> unknown_struct_method.rs:5:48
  = help: declare it: `impl Point { #[device] fn norm(&self) -> .. }`"#
);

snapshot!(
    checked_arithmetic,
    r#"#[ring_kernel(id = "k")]
fn k(ctx: &mut RingContext, x: u32) -> u32 { x.checked_add(1) }"#,
    r#"error: `checked_add` returns an `Option`, which kernels do not have
  --> checked_arithmetic.rs:2:46
  = help: use `overflowing_add` (the value and whether it overflowed), `wrapping_add` or `saturating_add`"#
);

snapshot!(
    array_pattern_of_the_wrong_length,
    r#"#[ring_kernel(id = "k")]
fn k(ctx: &mut RingContext, x: u32) -> u32 {
    let [a, b] = [x, x, x];
    a + b
}"#,
    r#"error: a pattern of 2 elements needs an array of 2, not `[u32; 3]`
  --> array_pattern_of_the_wrong_length.rs:3:18
  = help: name every element: `let [a, b] = pair;` for a `[T; 2]`"#
);

/// Enum misuse: each mistake one error that names the enum (and the missing variant).
#[test]
fn enum_misuse_gives_one_error_each() {
    let kernel = |body: &str| {
        format!(
            "#[derive(RingMessage, Clone, Copy, PartialEq)]\n#[repr(u8)]\nenum Op {{ Add = 1, Sub, Mul = 9 }}\n\
             #[derive(RingMessage, Clone, Copy)]\n#[repr(i8)]\nenum Level {{ Low = -1, High = 1 }}\n\
             #[ring_kernel(id = \"k\")]\nfn k(ctx: &mut RingContext, op: Op) -> u32 {{\n    {body}\n}}"
        )
    };
    let cases = [
        (
            kernel("match op { Op::Add => 1, Op::Sub => 2 }"),
            "non-exhaustive `match`: `Op::Mul` is not covered",
        ),
        (
            kernel("match op { Add => 1, _ => 2 }"),
            "`Add` here is a new binding that matches everything, not the variant",
        ),
        (
            kernel("match op { Op::Add..=Op::Sub => 1, _ => 2 }"),
            "range patterns do not work on enums",
        ),
        (
            kernel("match op { 1 => 1, _ => 2 }"),
            "mismatched types: a `literal` pattern for a `Op` value",
        ),
        (
            kernel("match op { Level::Low => 1, _ => 2 }"),
            "mismatched types: a `Level` pattern for a `Op` value",
        ),
        (kernel("op as f32 as u32"), "cannot cast enum `Op` as `f32`"),
        (kernel("let x = 1u8 as Op; 0"), "cannot cast to enum `Op`"),
        (kernel("(op + op) as u32"), "`+` is not defined for enum `Op`"),
        (kernel("Op::Div as u32"), "no variant `Div` in enum `Op`"),
        (kernel("if op == 1 { 1 } else { 2 }"), "mismatched types"),
    ];
    for (src, expected) in cases {
        let text = diagnose("enum_case", &src);
        assert_eq!(text.matches("error:").count(), 1, "{src}\none error expected, got:\n{text}");
        assert!(text.contains(expected), "{src}\nexpected `{expected}`, got:\n{text}");
    }
}

snapshot!(
    enum_definitions,
    r#"#[derive(RingMessage)]
enum NoRepr { A }
#[derive(RingMessage)]
#[repr(u8)]
enum Wide { A = 255, B }
#[derive(RingMessage)]
#[repr(i8)]
enum Data { A(u32), B = -1, C = -1 }"#,
    r#"error: enum `NoRepr` needs an integer `#[repr]`
  --> enum_definitions.rs:2:6
  = help: add `#[repr(u8)]` (or `u16`, `u32`, ...) so that the CPU and the GPU agree on its size
error: discriminant 256 of `Wide::B` does not fit `u8`
  --> enum_definitions.rs:5:22
  = help: choose a value in range or a wider `#[repr]`
error: variant `Data::A` has fields; RingMessage enums are fieldless
  --> enum_definitions.rs:8:14
  = help: move the data into a struct beside the enum: `struct Cmd { op: Op, value: u32 }`
error: `Data::C` and `Data::B` have one discriminant, -1
  --> enum_definitions.rs:8:29
  = help: give every variant its own value"#
);
