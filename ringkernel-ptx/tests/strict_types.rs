//! Types and modifiers the PTX ISA does not allow on an instruction are parse errors naming
//! them, not silently accepted (ptxas rejects them, so a program the VM runs must be one
//! ptxas would assemble).

use ringkernel_ptx::Module;

fn kernel(body: &str) -> String {
    format!(
        ".version 7.0\n.target sm_70\n.address_size 64\n.visible .entry k() {{\n\t.reg .pred %p<2>;\n\t.reg .b32 %r<4>;\n\t.reg .b64 %rd<4>;\n\t.reg .f32 %f<2>;\n{body}\n\tret;\n}}\n"
    )
}

#[test]
fn untyped_bit_sizes_on_arithmetic_are_errors() {
    for body in ["add.b32 %r1, %r2, %r3;", "sub.b64 %rd1, %rd2, %rd3;"] {
        let err = Module::parse(&kernel(body)).expect_err(body);
        assert!(err.to_string().contains(".b"), "{body}: {err}");
    }
    assert!(Module::parse(&kernel("add.u32 %r1, %r2, %r3;")).is_ok());
}

#[test]
fn testp_takes_only_the_isa_tests() {
    let err = Module::parse(&kernel("testp.nan.f32 %p1, %f1;")).expect_err("testp.nan");
    assert!(err.to_string().contains("nan"), "{err}");
    assert!(Module::parse(&kernel("testp.notanumber.f32 %p1, %f1;")).is_ok());
}
