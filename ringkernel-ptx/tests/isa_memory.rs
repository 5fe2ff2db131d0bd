//! ISA vectors for memory, synchronisation and control (PTX ISA 9.7.9 data movement,
//! 9.7.12 `bar`/`atom`/`red`/`fence`, 9.7.13 `shfl`/`vote`, 9.7.14 control flow), and the
//! faults every misuse turns into.

mod common;

use common::*;
use ringkernel_ptx::{Arg, Dims, Fault, Module, Vm};

const HEADER: &str = ".version 8.0\n.target sm_90\n.address_size 64\n";

fn module(body: &str) -> Module {
    Module::parse(&format!("{HEADER}{body}")).unwrap_or_else(|e| panic!("{e}"))
}

fn run(body: &str, entry: &str, dims: Dims, n: usize) -> Result<Vec<u32>, Fault> {
    run_u32s(&format!("{HEADER}{body}"), entry, dims, n)
}

/// Prologue shared by the kernels below: %rd1 = out, %r1 = tid.x, %r2 = global index,
/// %rd2 = &out[global index].
const PROLOGUE: &str = "
    .reg .pred %p<8>;
    .reg .b32 %r<32>;
    .reg .b64 %rd<16>;
    .reg .f32 %f<8>;
    ld.param.u64 %rd1, [out];
    mov.u32 %r1, %tid.x;
    mov.u32 %r3, %ctaid.x;
    mov.u32 %r4, %ntid.x;
    mad.lo.u32 %r2, %r3, %r4, %r1;
    mul.wide.u32 %rd3, %r2, 4;
    add.s64 %rd2, %rd1, %rd3;
";

#[test]
fn shared_memory_and_bar_sync_across_warps_and_ctas() {
    let k = format!(
        ".visible .entry k(.param .u64 out) {{
        .shared .align 4 .b32 buf[64];
        {PROLOGUE}
        mov.u32 %r5, buf;
        shl.b32 %r6, %r1, 2;
        add.u32 %r7, %r5, %r6;
        add.u32 %r8, %r1, %r3;
        st.shared.u32 [%r7], %r8;
        bar.sync 0;
        sub.u32 %r9, 63, %r1;
        shl.b32 %r9, %r9, 2;
        add.u32 %r9, %r5, %r9;
        ld.shared.u32 %r10, [%r9];
        st.global.u32 [%rd2], %r10;
        ret; }}"
    );
    let out = run(&k, "k", Dims::linear(3, 64), 192).unwrap();
    for (i, v) in out.iter().enumerate() {
        let (cta, tid) = (i as u32 / 64, i as u32 % 64);
        assert_eq!(*v, 63 - tid + cta, "thread {i}");
    }
}

#[test]
fn shfl_sync_modes_with_clamps_and_predicates() {
    let k = format!(
        ".visible .entry k(.param .u64 out) {{
        {PROLOGUE}
        mul.lo.u32 %r5, %r1, 10;
        shfl.sync.bfly.b32 %r6, %r1, 16, 31, -1;
        add.u32 %r6, %r6, %r1;
        shfl.sync.bfly.b32 %r7, %r6, 8, 31, -1;
        add.u32 %r6, %r6, %r7;
        shfl.sync.bfly.b32 %r7, %r6, 4, 31, -1;
        add.u32 %r6, %r6, %r7;
        shfl.sync.bfly.b32 %r7, %r6, 2, 31, -1;
        add.u32 %r6, %r6, %r7;
        shfl.sync.bfly.b32 %r7, %r6, 1, 31, -1;
        add.u32 %r6, %r6, %r7;
        shfl.sync.up.b32 %r8|%p1, %r5, 1, 0, -1;
        selp.u32 %r9, 1000, 0, %p1;
        add.u32 %r8, %r8, %r9;
        shfl.sync.down.b32 %r10|%p2, %r5, 3, 31, -1;
        selp.u32 %r11, 1000, 0, %p2;
        add.u32 %r10, %r10, %r11;
        shfl.sync.idx.b32 %r12, %r5, 7, 31, -1;
        mul.wide.u32 %rd4, %r1, 16;
        add.s64 %rd5, %rd1, %rd4;
        st.global.v4.u32 [%rd5], {{%r6, %r8, %r10, %r12}};
        ret; }}"
    );
    let out = run(&k, "k", Dims::linear(1, 32), 128).unwrap();
    for lane in 0..32u32 {
        let row = &out[lane as usize * 4..lane as usize * 4 + 4];
        assert_eq!(row[0], 496, "butterfly sum at lane {lane}");
        let up = if lane == 0 { 0 } else { 10 * (lane - 1) + 1000 };
        assert_eq!(row[1], up, "shfl.up at lane {lane}");
        let down = if lane + 3 <= 31 { 10 * (lane + 3) + 1000 } else { 10 * lane };
        assert_eq!(row[2], down, "shfl.down at lane {lane}");
        assert_eq!(row[3], 70, "shfl.idx at lane {lane}");
    }
}

#[test]
fn vote_and_activemask_after_divergence() {
    let k = format!(
        ".visible .entry k(.param .u64 out) {{
        {PROLOGUE}
        and.b32 %r5, %r1, 1;
        setp.eq.u32 %p1, %r5, 1;
        @%p1 bra ODD;
        setp.lt.u32 %p2, %r1, 8;
        vote.sync.ballot.b32 %r6, %p2, 0x55555555;
        vote.sync.all.pred %p3, %p2, 0x55555555;
        vote.sync.any.pred %p4, %p2, 0x55555555;
        vote.sync.uni.pred %p5, %p1, 0x55555555;
        bar.warp.sync 0x55555555;
        activemask.b32 %r7;
        selp.u32 %r8, 1, 0, %p3;
        selp.u32 %r9, 2, 0, %p4;
        selp.u32 %r10, 4, 0, %p5;
        or.b32 %r8, %r8, %r9;
        or.b32 %r8, %r8, %r10;
        mul.wide.u32 %rd4, %r1, 12;
        add.s64 %rd5, %rd1, %rd4;
        st.global.u32 [%rd5], %r6;
        st.global.u32 [%rd5+4], %r8;
        st.global.u32 [%rd5+8], %r7;
    ODD:
        ret; }}"
    );
    let out = run(&k, "k", Dims::linear(1, 32), 96).unwrap();
    for lane in (0..32).step_by(2) {
        let row = &out[lane * 3..lane * 3 + 3];
        assert_eq!(row[0], 0b0101_0101, "ballot of lanes < 8 among the even lanes");
        assert_eq!(row[1], 2 | 4, "not all, any, uniform");
        assert_eq!(row[2], 0x5555_5555, "activemask: the even lanes");
    }
}

#[test]
fn atomics_of_every_kind() {
    let k = format!(
        ".visible .entry k(.param .u64 out) {{
        .shared .align 4 .b32 counter;
        {PROLOGUE}
        atom.global.add.u32 %r5, [%rd1], 1;
        red.global.add.u32 [%rd1+4], 2;
        atom.global.max.s32 %r6, [%rd1+8], %r1;
        atom.global.min.s32 %r6, [%rd1+12], -5;
        atom.global.or.b32 %r6, [%rd1+16], 256;
        atom.shared.add.u32 %r7, [counter], 1;
        atom.global.add.f32 %f1, [%rd1+20], 0f3F000000;
        bar.sync 0;
        setp.ne.u32 %p1, %r1, 0;
        @%p1 bra DONE;
        ld.shared.u32 %r8, [counter];
        atom.global.add.u32 %r9, [%rd1+24], %r8;
        mov.u32 %r10, 0;
    INC:
        atom.global.inc.u32 %r11, [%rd1+28], 2;
        atom.global.dec.u32 %r12, [%rd1+32], 5;
        add.u32 %r10, %r10, 1;
        setp.lt.u32 %p2, %r10, 4;
        @%p2 bra INC;
        atom.global.cas.b32 %r13, [%rd1+36], 0, 77;
        atom.global.cas.b32 %r13, [%rd1+36], 0, 99;
        atom.global.exch.b32 %r14, [%rd1+40], %r13;
        st.global.u32 [%rd1+44], %r11;
        st.global.u32 [%rd1+48], %r12;
    DONE:
        ret; }}"
    );
    let out = run(&k, "k", Dims::linear(2, 128), 13).unwrap();
    assert_eq!(out[0], 256, "atom.add over 2 CTAs of 128");
    assert_eq!(out[1], 512, "red.add");
    assert_eq!(out[2], 127, "atom.max.s32");
    assert_eq!(out[3] as i32, -5, "atom.min.s32");
    assert_eq!(out[4], 256, "atom.or");
    assert_eq!(f32::from_bits(out[5]), 128.0, "atom.add.f32");
    assert_eq!(out[6], 256, "shared counters are per CTA: 128 + 128");
    // Eight incs with bound 2 from 0: 0→1→2→0→1→2→0→1→2. Eight decs with bound 5 from 0:
    // 0→5→4→3→2→1→0→5→4.
    assert_eq!(out[7], 2, "atom.inc wraps at its bound");
    assert_eq!(out[8], 4, "atom.dec wraps to its bound at 0");
    assert_eq!(out[9], 77, "the first cas wins, the second fails");
    assert_eq!(out[10], 77, "exch stores the value cas returned");
}

#[test]
fn vector_local_and_generic_accesses() {
    let k = format!(
        ".visible .entry k(.param .u64 out) {{
        .local .align 16 .b8 depot[32];
        {PROLOGUE}
        mov.u64 %rd4, depot;
        cvta.local.u64 %rd5, %rd4;
        st.u32 [%rd5+4], 41;
        ld.local.u32 %r5, [%rd4+4];
        add.u32 %r5, %r5, 1;
        st.local.v4.u32 [%rd4+16], {{%r5, 2, 3, 4}};
        ld.v4.u32 {{%r6, %r7, %r8, %r9}}, [%rd5+16];
        st.global.v2.u32 [%rd1], {{%r6, %r9}};
        cvta.to.local.u64 %rd6, %rd5;
        setp.eq.u64 %p1, %rd6, %rd4;
        selp.u32 %r10, 1, 0, %p1;
        st.global.u32 [%rd1+8], %r10;
        ret; }}"
    );
    assert_eq!(run(&k, "k", Dims::linear(1, 1), 3).unwrap(), vec![42, 4, 1]);
}

#[test]
fn module_variables_calls_and_return_values() {
    let k = format!(
        ".global .align 4 .u32 table[4] = {{10, 20, 30, 40}};
        .const .align 8 .f64 scale = 0d4000000000000000;
        .func (.param .b32 ret) twice_plus(.param .b32 a, .param .b32 b);
        .func (.param .b32 ret) twice_plus(.param .b32 a, .param .b32 b) {{
            .reg .b32 %t<4>;
            ld.param.u32 %t1, [a];
            ld.param.u32 %t2, [b];
            shl.b32 %t3, %t1, 1;
            add.u32 %t3, %t3, %t2;
            st.param.b32 [ret], %t3;
            ret;
        }}
        .visible .entry k(.param .u64 out) {{
        .reg .f64 %fd<4>;
        {PROLOGUE}
        ld.global.u32 %r5, [table+8];
        ld.const.f64 %fd1, [scale];
        cvt.rzi.u32.f64 %r6, %fd1;
        {{
            .param .b32 pa;
            .param .b32 pb;
            .param .b32 pr;
            st.param.b32 [pa], %r5;
            st.param.b32 [pb], %r6;
            call.uni (pr), twice_plus, (pa, pb);
            ld.param.b32 %r7, [pr];
        }}
        st.global.u32 [%rd1], %r7;
        ret; }}"
    );
    let m = module(&k);
    let vm = Vm::new();
    let out = vm.alloc(4).unwrap();
    vm.launch(&m, "k", Dims::linear(1, 1), &[Arg::U64(out)]).unwrap();
    let mut b = [0u8; 4];
    vm.read(out, &mut b).unwrap();
    assert_eq!(u32::from_le_bytes(b), 62);
    // The host can reach module variables, and they keep their values across launches.
    let table = vm.global_address(&m, "table").unwrap().unwrap();
    vm.write(table + 8, &5u32.to_le_bytes()).unwrap();
    vm.launch(&m, "k", Dims::linear(1, 1), &[Arg::U64(out)]).unwrap();
    vm.read(out, &mut b).unwrap();
    assert_eq!(u32::from_le_bytes(b), 12);
    assert_eq!(vm.global_address(&m, "nothing").unwrap(), None);
    // Forgetting the module frees its variables; a new launch starts from the initialisers.
    assert!(vm.forget(&m));
    assert!(!vm.forget(&m));
    let mut old = [0u8; 4];
    assert!(vm.read(table, &mut old).is_err(), "the old variable is gone");
    vm.launch(&m, "k", Dims::linear(1, 1), &[Arg::U64(out)]).unwrap();
    vm.read(out, &mut b).unwrap();
    assert_eq!(u32::from_le_bytes(b), 62);
}

fn fault_of(body: &str, dims: Dims) -> Fault {
    let m = module(body);
    let vm = Vm::new();
    vm.set_instruction_budget(Some(100_000));
    let out = vm.alloc(64).unwrap();
    let fault = vm.launch(&m, "k", dims, &[Arg::U64(out)]).unwrap_err();
    // The VM stays usable after any fault.
    let ok = module(
        ".visible .entry ok(.param .u64 out) { .reg .b64 %rd1; ld.param.u64 %rd1, [out]; st.global.u32 [%rd1], 7; ret; }",
    );
    vm.launch(&ok, "ok", Dims::linear(1, 1), &[Arg::U64(out)]).unwrap();
    fault
}

#[test]
fn every_misuse_is_a_fault_value_with_a_location() {
    let k = |body: &str| format!(".visible .entry k(.param .u64 out) {{ {PROLOGUE} {body} ret; }}");
    match fault_of(&k("st.global.u32 [16], %r1;"), Dims::linear(1, 4)) {
        Fault::IllegalAddress { entry, pc, address, at } => {
            assert_eq!((entry.as_str(), pc, address), ("k", at.pc, 16));
            assert_eq!((at.entry.as_str(), at.thread), ("k", [0, 0, 0]));
            assert!(at.line > 3, "{at}");
        }
        f => panic!("{f}"),
    }
    match fault_of(&k("ld.global.u32 %r5, [%rd1+2];"), Dims::linear(1, 1)) {
        Fault::MisalignedAddress { size: 4, .. } => {}
        f => panic!("{f}"),
    }
    match fault_of(&k("ld.global.u32 %r5, [%rd1+64];"), Dims::linear(1, 1)) {
        Fault::IllegalAddress { .. } => {}
        f => panic!("one past the end: {f}"),
    }
    assert!(
        matches!(fault_of(&k("setp.eq.u32 %p1, %r1, 2; @%p1 trap;"), Dims::linear(1, 4)), Fault::Trap { at } if at.thread == [2, 0, 0])
    );
    assert!(matches!(
        fault_of(&k("LOOP: bra.uni LOOP;"), Dims::linear(1, 1)),
        Fault::BudgetExhausted { .. }
    ));
    let deadlock = fault_of(&k("bar.sync 0, 64;"), Dims::linear(1, 32));
    assert!(
        matches!(&deadlock, Fault::Deadlock { detail, .. } if detail.contains("32 at PTX line")),
        "{deadlock}"
    );
    // A shuffle that names a lane parked at a barrier can never complete either.
    let mixed = fault_of(
        &k(
            "setp.eq.u32 %p1, %r1, 0; @%p1 bra B; shfl.sync.idx.b32 %r5, %r1, 0, 31, -1; B: bar.sync 0;",
        ),
        Dims::linear(1, 32),
    );
    assert!(matches!(mixed, Fault::Deadlock { .. }), "{mixed}");
    let recursive =
        ".func f(.param .b32 a); .func f(.param .b32 a) { .param .b32 x; call f, (x); ret; }
        .visible .entry k(.param .u64 out) { .param .b32 y; call f, (y); ret; }";
    assert!(
        matches!(fault_of(recursive, Dims::linear(1, 1)), Fault::Unsupported { what, .. } if what.contains("recursive"))
    );
    // Without parameters too: its registers would be its caller's.
    let registers_only = ".func h(); .func h() { .reg .b32 %q; mov.u32 %q, 1; call h; ret; }
        .visible .entry k(.param .u64 out) { call h; ret; }";
    assert!(matches!(fault_of(registers_only, Dims::linear(1, 1)), Fault::Unsupported { .. }));
    let external = ".extern .func g(); .visible .entry k(.param .u64 out) { call g; ret; }";
    assert!(
        matches!(fault_of(external, Dims::linear(1, 1)), Fault::Unsupported { what, .. } if what.contains("no body"))
    );
}

#[test]
fn launch_arguments_and_shapes_are_checked() {
    let m = module(".visible .entry k(.param .u64 a, .param .u32 b) { ret; }");
    let vm = Vm::new();
    let d = Dims::linear(1, 1);
    assert!(
        matches!(vm.launch(&m, "nope", d, &[]), Err(Fault::NoSuchEntry { available, .. }) if available == ["k"])
    );
    assert!(matches!(vm.launch(&m, "k", d, &[Arg::U64(0)]), Err(Fault::BadArguments { .. })));
    assert!(
        matches!(vm.launch(&m, "k", d, &[Arg::U64(0), Arg::U64(0)]), Err(Fault::BadArguments { detail, .. }) if detail.contains("argument 1"))
    );
    assert!(matches!(
        vm.launch(&m, "k", Dims::linear(0, 1), &[Arg::U64(0), Arg::U32(0)]),
        Err(Fault::BadDims { .. })
    ));
    assert!(matches!(
        vm.launch(&m, "k", Dims::linear(1, 2048), &[Arg::U64(0), Arg::U32(0)]),
        Err(Fault::BadDims { .. })
    ));
    let big = Dims { shared_bytes: 1 << 20, ..d };
    assert!(matches!(
        vm.launch(&m, "k", big, &[Arg::U64(0), Arg::U32(0)]),
        Err(Fault::BadDims { .. })
    ));
    assert!(vm.launch(&m, "k", d, &[Arg::U64(0), Arg::U32(0)]).is_ok());
}

#[test]
fn an_asynchronous_launch_polls_memory_the_host_writes() {
    let m = module(
        ".visible .entry wait(.param .u64 flag) {
            .reg .pred %p1; .reg .b32 %r<3>; .reg .b64 %rd1;
            ld.param.u64 %rd1, [flag];
        SPIN:
            ld.acquire.sys.global.u32 %r1, [%rd1];
            setp.eq.u32 %p1, %r1, 0;
            @%p1 nanosleep.u32 100;
            @%p1 bra SPIN;
            add.u32 %r2, %r1, 1;
            st.release.sys.global.u32 [%rd1+4], %r2;
            ret; }",
    );
    let vm = Vm::new();
    let flag = vm.alloc(8).unwrap();
    let h = vm.launch_async(&m, "wait", Dims::linear(1, 1), &[Arg::U64(flag)]).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    assert!(!h.is_finished(), "the kernel must wait for the flag");
    vm.write(flag, &41u32.to_le_bytes()).unwrap();
    let stats = h.wait().unwrap();
    assert!(stats.instructions > 0);
    let mut b = [0u8; 4];
    vm.read(flag + 4, &mut b).unwrap();
    assert_eq!(u32::from_le_bytes(b), 42);
    // A kernel that never ends can be cancelled, and dropping a handle cancels too.
    vm.write(flag, &0u32.to_le_bytes()).unwrap();
    let h = vm.launch_async(&m, "wait", Dims::linear(1, 1), &[Arg::U64(flag)]).unwrap();
    h.cancel();
    assert!(matches!(h.wait(), Err(Fault::Cancelled { .. })));
    let h = vm.launch_async(&m, "wait", Dims::linear(1, 1), &[Arg::U64(flag)]).unwrap();
    drop(h);
    // Bad launches fail before a thread starts.
    assert!(vm.launch_async(&m, "wait", Dims::linear(1, 1), &[]).is_err());
}

#[test]
fn a_thread_waiting_for_a_later_thread_of_its_cta_sees_it_run() {
    // Thread 0 spins until thread 63 has written the flag: no barrier, no collective.
    let k = format!(
        ".visible .entry k(.param .u64 out) {{
        {PROLOGUE}
        setp.ne.u32 %p1, %r1, 0;
        @%p1 bra WRITER;
    SPIN:
        ld.volatile.global.u32 %r5, [%rd1+4];
        setp.eq.u32 %p2, %r5, 0;
        @%p2 bra SPIN;
        st.global.u32 [%rd1], %r5;
        ret;
    WRITER:
        setp.ne.u32 %p3, %r1, 63;
        @%p3 bra DONE;
        st.volatile.global.u32 [%rd1+4], 99;
    DONE:
        ret; }}"
    );
    assert_eq!(run(&k, "k", Dims::linear(1, 64), 2).unwrap(), vec![99, 99]);
}

#[test]
fn an_idle_polling_kernel_backs_off_and_still_reacts() {
    let m = module(
        ".visible .entry wait(.param .u64 flag) {
            .reg .pred %p1; .reg .b32 %r1; .reg .b64 %rd1;
            ld.param.u64 %rd1, [flag];
        SPIN:
            ld.acquire.sys.global.u32 %r1, [%rd1];
            setp.eq.u32 %p1, %r1, 0;
            @%p1 nanosleep.u32 1000;
            @%p1 bra SPIN;
            ret; }",
    );
    let vm = Vm::new();
    let flag = vm.alloc(8).unwrap();
    let h = vm.launch_async(&m, "wait", Dims::linear(1, 1), &[Arg::U64(flag)]).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(400));
    let set = std::time::Instant::now();
    vm.write(flag, &1u32.to_le_bytes()).unwrap();
    while !h.is_finished() {
        assert!(
            set.elapsed() < std::time::Duration::from_millis(200),
            "the kernel must still react"
        );
        std::thread::yield_now();
    }
    let stats = h.wait().unwrap();
    // 400 ms of polling: ~20,000 yielding rounds, then ~50 µs sleeps (about 7,000 rounds),
    // 6 instructions a round; yielding all the way would be several million.
    println!("idle kernel: {} instructions in 400 ms", stats.instructions);
    assert!(
        stats.instructions < 1_000_000,
        "{} instructions: the idle kernel did not back off",
        stats.instructions
    );
}

#[test]
fn vprintf_formats_into_the_vms_output_and_a_wild_format_faults() {
    let k = "
        .extern .func (.param .b32 r) vprintf(.param .b64 f, .param .b64 a);
        .global .align 1 .b8 fmt[14] = {120, 61, 37, 48, 56, 120, 32, 121, 61, 37, 46, 49, 102, 0};
        .visible .entry k(.param .u64 wild) {
            .local .align 8 .b8 args[16];
            .reg .b32 %r<3>; .reg .b64 %rd<6>; .reg .f64 %fd1;
            mov.u64 %rd1, args;
            cvta.local.u64 %rd2, %rd1;
            st.local.u32 [%rd1], 48879;
            mov.f64 %fd1, 0d4004000000000000;
            st.local.f64 [%rd1+8], %fd1;
            mov.u64 %rd3, fmt;
            cvta.global.u64 %rd4, %rd3;
            ld.param.u64 %rd5, [wild];
            setp.ne.u64 %p1, %rd5, 0;
            @%p1 mov.u64 %rd4, %rd5;
            {
                .param .b64 p0; .param .b64 p1; .param .b32 ret;
                st.param.b64 [p0], %rd4;
                st.param.b64 [p1], %rd2;
                call.uni (ret), vprintf, (p0, p1);
                ld.param.b32 %r1, [ret];
            }
            ret; }";
    let m = module(&k.replace(".reg .b32 %r<3>;", ".reg .pred %p1; .reg .b32 %r<3>;"));
    let vm = Vm::new();
    vm.launch(&m, "k", Dims::linear(1, 1), &[Arg::U64(0)]).unwrap();
    assert_eq!(vm.take_output(), "x=0000beef y=2.5");
    assert!(matches!(
        vm.launch(&m, "k", Dims::linear(1, 1), &[Arg::U64(8)]),
        Err(Fault::IllegalAddress { address: 8, .. })
    ));
}
