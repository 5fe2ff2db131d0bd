//! A harness for ISA vectors: one instruction (or a few) between a fixed prologue that loads
//! three 64-bit inputs into registers of every type and an epilogue that stores one result.
//!
//! Inputs `a, b, c` arrive as `%rd1..%rd3` (b64), `%r1..%r3` (their low 32 bits), `%h1..%h3`
//! (low 16), `%f1..%f3` (low 32 as f32), `%fd1..%fd3` (as f64) and `%p1..%p3` (bit 0).
//! The result register is one of `%rd4 %r4 %h4 %f4 %fd4 %p4`, stored zero-extended to 64 bits.
#![allow(dead_code)]

use ringkernel_ptx::{Arg, Dims, Fault, Module, Vm};

pub fn kernel(body: &str, result: &str) -> String {
    let store = match result {
        "%rd4" => "mov.b64 %rd6, %rd4;",
        "%r4" => "cvt.u64.u32 %rd6, %r4;",
        "%h4" => "cvt.u64.u16 %rd6, %h4;",
        "%f4" => "mov.b32 %r5, %f4; cvt.u64.u32 %rd6, %r5;",
        "%fd4" => "mov.b64 %rd6, %fd4;",
        "%p4" => "selp.u64 %rd6, 1, 0, %p4;",
        other => panic!("unknown result register {other}"),
    };
    format!(
        ".version 8.0
.target sm_90
.address_size 64
.visible .entry t(.param .u64 out, .param .u64 pa, .param .u64 pb, .param .u64 pc)
{{
    .reg .pred %p<6>;
    .reg .b16 %h<6>;
    .reg .b32 %r<6>;
    .reg .b64 %rd<8>;
    .reg .f32 %f<6>;
    .reg .f64 %fd<6>;
    ld.param.u64 %rd1, [pa];
    ld.param.u64 %rd2, [pb];
    ld.param.u64 %rd3, [pc];
    cvt.u32.u64 %r1, %rd1;
    cvt.u32.u64 %r2, %rd2;
    cvt.u32.u64 %r3, %rd3;
    cvt.u16.u64 %h1, %rd1;
    cvt.u16.u64 %h2, %rd2;
    cvt.u16.u64 %h3, %rd3;
    mov.b32 %f1, %r1;
    mov.b32 %f2, %r2;
    mov.b32 %f3, %r3;
    mov.b64 %fd1, %rd1;
    mov.b64 %fd2, %rd2;
    mov.b64 %fd3, %rd3;
    and.b64 %rd5, %rd1, 1;
    setp.ne.u64 %p1, %rd5, 0;
    and.b64 %rd5, %rd2, 1;
    setp.ne.u64 %p2, %rd5, 0;
    and.b64 %rd5, %rd3, 1;
    setp.ne.u64 %p3, %rd5, 0;
    mov.b64 %rd4, 0;
    {body}
    {store}
    ld.param.u64 %rd7, [out];
    st.u64 [%rd7], %rd6;
}}
"
    )
}

/// Runs `body` on inputs `(a, b, c)` and returns the result register's bits.
pub fn try_eval(body: &str, result: &str, a: u64, b: u64, c: u64) -> Result<u64, Fault> {
    let module = Module::parse(&kernel(body, result)).unwrap_or_else(|e| panic!("`{body}`: {e}"));
    let vm = Vm::new();
    let out = vm.alloc(8).unwrap();
    vm.launch(
        &module,
        "t",
        Dims::linear(1, 1),
        &[Arg::U64(out), Arg::U64(a), Arg::U64(b), Arg::U64(c)],
    )?;
    let mut bytes = [0u8; 8];
    vm.read(out, &mut bytes).unwrap();
    Ok(u64::from_le_bytes(bytes))
}

pub fn eval(body: &str, result: &str, a: u64, b: u64, c: u64) -> u64 {
    try_eval(body, result, a, b, c).unwrap_or_else(|f| panic!("`{body}` faulted: {f}"))
}

/// Evaluates a two-input instruction over a table of `(a, b, expected)` rows.
pub fn table(body: &str, result: &str, rows: &[(u64, u64, u64)]) {
    for &(a, b, want) in rows {
        let got = eval(body, result, a, b, 0);
        assert_eq!(got, want, "`{body}` with a={a:#x} b={b:#x}: got {got:#x}, want {want:#x}");
    }
}

pub fn f32b(x: f32) -> u64 {
    u64::from(x.to_bits())
}

pub fn f64b(x: f64) -> u64 {
    x.to_bits()
}

/// A whole module run once with one thread per listed block, returning `n` u32 outputs
/// (the kernel takes `.param .u64 out`).
pub fn run_u32s(ptx: &str, entry: &str, dims: Dims, n: usize) -> Result<Vec<u32>, Fault> {
    let module = Module::parse(ptx).unwrap_or_else(|e| panic!("{e}"));
    let vm = Vm::new();
    // A kernel that never ends fails the test instead of hanging it.
    vm.set_instruction_budget(Some(50_000_000));
    let out = vm.alloc(4 * n).unwrap();
    vm.launch(&module, entry, dims, &[Arg::U64(out)])?;
    let mut bytes = vec![0u8; 4 * n];
    vm.read(out, &mut bytes).unwrap();
    Ok(bytes.chunks(4).map(|c| u32::from_le_bytes(c.try_into().unwrap())).collect())
}
