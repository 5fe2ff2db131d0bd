//! The two `.entry` points of a handler.
//!
//! - `<name>_persistent(cb, in_queue, out_queue, state)`: the actor loop of the ABI (see
//!   [`crate::abi`]). Thread 0 of block 0 runs it; other threads exit. It waits for `RUN`,
//!   polls the input ring with acquire loads, calls the handler for each message, writes the
//!   response slot and publishes it with release stores, honours `QUIESCE` and `TERMINATE`
//!   at message boundaries and acknowledges them, sleeps with `nanosleep` when idle or when
//!   the output ring is full (back-pressure), and counts processed messages. Before the
//!   handler runs, each message is checked against the actor's access policy (read from the
//!   control block whenever the kernel starts running: tenant equal, every required permission
//!   bit held) and then its type id; a refused or wrong-type message is recorded as an error
//!   (and a refusal counted) without calling the handler, and answered with a failed response
//!   (type id `FAILED_RESPONSE_TYPE`, zeroed payload) as the CPU backend does. The handler
//!   returns the message's fault (its first error, or `BUDGET_EXHAUSTED` when its budget ran
//!   out, which also fails the response); the response slot's header carries it, with the
//!   message's tenant, permissions and sender. A message that already carries a fault (from
//!   the stage before us in a pipeline) keeps it, and a failed one is passed on failed, its
//!   fault kept, without running the handler or counting an error again.
//!
//!   Both rings follow the host ring's protocol (`ringkernel::ring`): a response slot's
//!   `type_id` is stored last, with release, after the header and the handler's payload, and
//!   only then `tail`; so a host consumer that polls the next slot's `type_id` (the fast path)
//!   never sees a slot before its contents. A consumed input slot's `type_id` is cleared
//!   before `head` is released, as the host consumer does.
//!
//! The batch entry is written by the module writer (the handler body in place).

use std::fmt::Write as _;

use crate::abi::{ack, error, offsets as o, policy, request};

pub(super) fn persistent(name: &str, idle_backoff_ns: u32) -> String {
    let sym = format!("{name}_persistent");
    let mut t = String::new();
    let _ = writeln!(
        t,
        ".visible .entry {sym}(.param .u64 {sym}_cb, .param .u64 {sym}_in, .param .u64 {sym}_out, .param .u64 {sym}_state)\n{{"
    );
    t.push_str("\t.reg .pred \t%p<4>;\n\t.reg .b32 \t%r<16>;\n\t.reg .b64 \t%rd<32>;\n");
    let lines = [
        "mov.u32 \t%r1, %tid.x;".to_owned(),
        "mov.u32 \t%r2, %ctaid.x;".into(),
        "or.b32 \t%r1, %r1, %r2;".into(),
        "setp.ne.u32 \t%p1, %r1, 0;".into(),
        "@%p1 bra \t$L__exit;".into(),
        format!("ld.param.u64 \t%rd1, [{sym}_cb];"),
        format!("ld.param.u64 \t%rd2, [{sym}_in];"),
        format!("ld.param.u64 \t%rd3, [{sym}_out];"),
        format!("ld.param.u64 \t%rd4, [{sym}_state];"),
        "// ring geometry: masks, slot sizes, type ids".into(),
        format!("ld.u32 \t%r3, [%rd2+{}];", o::Q_CAPACITY),
        format!("ld.u32 \t%r4, [%rd2+{}];", o::Q_SLOT_SIZE),
        format!("ld.u32 \t%r5, [%rd3+{}];", o::Q_CAPACITY),
        format!("ld.u32 \t%r6, [%rd3+{}];", o::Q_SLOT_SIZE),
        format!("ld.u64 \t%rd5, [%rd2+{}];", o::Q_TYPE_ID),
        format!("ld.u64 \t%rd6, [%rd3+{}];", o::Q_TYPE_ID),
        "cvt.u64.u32 \t%rd7, %r3;".into(),
        "sub.u64 \t%rd7, %rd7, 1;".into(),
        "cvt.u64.u32 \t%rd8, %r4;".into(),
        "cvt.u64.u32 \t%rd11, %r5;".into(),
        "sub.u64 \t%rd9, %rd11, 1;".into(),
        "cvt.u64.u32 \t%rd10, %r6;".into(),
        "// our own indices: input head (we consume), output tail (we produce)".into(),
        format!("ld.acquire.sys.u64 \t%rd12, [%rd2+{}];", o::Q_HEAD),
        format!("ld.acquire.sys.u64 \t%rd13, [%rd3+{}];", o::Q_TAIL),
    ];
    push(&mut t, &lines);
    t.push_str("$L__wait:\n");
    push(
        &mut t,
        &[
            format!("ld.acquire.sys.u32 \t%r7, [%rd1+{}];", o::CB_REQUESTED),
            format!("setp.eq.u32 \t%p1, %r7, {};", request::TERMINATE),
            "@%p1 bra \t$L__terminate;".into(),
            format!("setp.eq.u32 \t%p1, %r7, {};", request::RUN),
            "@%p1 bra \t$L__run;".into(),
            format!("setp.ne.u32 \t%p2, %r7, {};", request::QUIESCE),
            "@%p2 bra \t$L__sleep;".into(),
            format!("mov.u32 \t%r8, {};", ack::QUIESCED),
            format!("st.release.sys.u32 \t[%rd1+{}], %r8;", o::CB_ACKNOWLEDGED),
        ],
    );
    t.push_str("$L__sleep:\n");
    push(&mut t, &[format!("nanosleep.u32 \t{idle_backoff_ns};"), "bra.uni \t$L__wait;".into()]);
    t.push_str("$L__run:\n");
    push(
        &mut t,
        &[
            "// the access policy (written before RUN, which we acquired)".into(),
            format!("ld.u32 \t%r9, [%rd1+{}];", o::CB_POLICY_FLAGS),
            format!("and.b32 \t%r9, %r9, {};", policy::ENFORCED),
            format!("ld.u64 \t%rd30, [%rd1+{}];", o::CB_POLICY_TENANT),
            format!("ld.u32 \t%r10, [%rd1+{}];", o::CB_POLICY_REQUIRED),
            format!("mov.u32 \t%r8, {};", ack::RUNNING),
            format!("st.release.sys.u32 \t[%rd1+{}], %r8;", o::CB_ACKNOWLEDGED),
        ],
    );
    t.push_str("$L__loop:\n");
    push(
        &mut t,
        &[
            format!("ld.acquire.sys.u32 \t%r7, [%rd1+{}];", o::CB_REQUESTED),
            format!("setp.ne.u32 \t%p1, %r7, {};", request::RUN),
            "@%p1 bra \t$L__wait;".into(),
            format!("ld.acquire.sys.u64 \t%rd14, [%rd2+{}];", o::Q_TAIL),
            "setp.eq.u64 \t%p1, %rd14, %rd12;".into(),
            "@%p1 bra \t$L__idle;".into(),
            format!("ld.acquire.sys.u64 \t%rd15, [%rd3+{}];", o::Q_HEAD),
            "sub.u64 \t%rd16, %rd13, %rd15;".into(),
            "setp.ge.u64 \t%p1, %rd16, %rd11;".into(),
            "@%p1 bra \t$L__idle;".into(),
            "and.b64 \t%rd17, %rd12, %rd7;".into(),
            "mad.lo.u64 \t%rd17, %rd17, %rd8, %rd2;".into(),
            format!("add.u64 \t%rd17, %rd17, {};", o::Q_SLOTS),
            format!("ld.u64 \t%rd18, [%rd17+{}];", o::SLOT_TYPE_ID),
            format!("ld.u64 \t%rd19, [%rd17+{}];", o::SLOT_SEQUENCE),
            format!("ld.u64 \t%rd20, [%rd17+{}];", o::SLOT_CORRELATION),
            format!("ld.u64 \t%rd31, [%rd17+{}];", o::SLOT_TENANT),
            format!("ld.u32 \t%r12, [%rd17+{}];", o::SLOT_PERMISSIONS),
            format!("ld.u16 \t%r13, [%rd17+{}];", o::SLOT_SENDER),
            format!("ld.u16 \t%r15, [%rd17+{}];", o::SLOT_FAULT),
            "// the response slot's header: the message's ids and sender, a tick".into(),
            "and.b64 \t%rd21, %rd13, %rd9;".into(),
            "mad.lo.u64 \t%rd21, %rd21, %rd10, %rd3;".into(),
            format!("add.u64 \t%rd21, %rd21, {};", o::Q_SLOTS),
            format!("st.u64 \t[%rd21+{}], %rd19;", o::SLOT_SEQUENCE),
            format!("st.u64 \t[%rd21+{}], %rd20;", o::SLOT_CORRELATION),
            format!("st.u64 \t[%rd21+{}], %rd31;", o::SLOT_TENANT),
            format!("st.u32 \t[%rd21+{}], %r12;", o::SLOT_PERMISSIONS),
            format!("st.u16 \t[%rd21+{}], %r13;", o::SLOT_SENDER),
            format!("atom.add.u64 \t%rd22, [%rd1+{}], 1;", o::CB_HLC),
            "add.u64 \t%rd22, %rd22, 1;".into(),
            format!("st.u64 \t[%rd21+{}], %rd22;", o::SLOT_HLC),
            "mov.u64 \t%rd29, %rd6;".into(),
            "// the policy, before anything else reads the message".into(),
            "setp.eq.u32 \t%p1, %r9, 0;".into(),
            "@%p1 bra \t$L__admitted;".into(),
            "setp.ne.u64 \t%p1, %rd31, %rd30;".into(),
            "@%p1 bra \t$L__refused;".into(),
            "and.b32 \t%r14, %r12, %r10;".into(),
            "setp.ne.u32 \t%p1, %r14, %r10;".into(),
            "@%p1 bra \t$L__refused;".into(),
        ],
    );
    t.push_str("$L__admitted:\n");
    push(
        &mut t,
        &[
            "// a failed message from a stage before us: passed on, its fault kept".into(),
            format!("setp.eq.u64 \t%p1, %rd18, {:#X};", crate::abi::FAILED_RESPONSE_TYPE),
            "@%p1 bra \t$L__forward;".into(),
            "setp.ne.u64 \t%p1, %rd18, %rd5;".into(),
            "@%p1 bra \t$L__wrong_type;".into(),
            format!("add.u64 \t%rd23, %rd17, {};", o::SLOT_PAYLOAD),
            format!("add.u64 \t%rd24, %rd21, {};", o::SLOT_PAYLOAD),
            "{".into(),
            ".param .b32 rk_h_status;".into(),
            ".param .b64 rk_h_cb;".into(),
            ".param .b64 rk_h_seq;".into(),
            ".param .b64 rk_h_state;".into(),
            ".param .b64 rk_h_msg;".into(),
            ".param .b64 rk_h_resp;".into(),
            "st.param.b64 \t[rk_h_cb], %rd1;".into(),
            "st.param.b64 \t[rk_h_seq], %rd19;".into(),
            "st.param.b64 \t[rk_h_state], %rd4;".into(),
            "st.param.b64 \t[rk_h_msg], %rd23;".into(),
            "st.param.b64 \t[rk_h_resp], %rd24;".into(),
            format!(
                "call.uni \t(rk_h_status), {name}_handler, (rk_h_cb, rk_h_seq, rk_h_state, rk_h_msg, rk_h_resp);"
            ),
            "ld.param.b32 \t%r11, [rk_h_status];".into(),
            "}".into(),
            "// an aborted message (budget exhausted) has no value".into(),
            format!("setp.eq.u32 \t%p1, %r11, {};", error::BUDGET_EXHAUSTED),
            "@%p1 bra \t$L__aborted;".into(),
            "// the first fault along a pipeline is the one reported".into(),
            "setp.ne.u32 \t%p1, %r15, 0;".into(),
            "@%p1 mov.u32 \t%r11, %r15;".into(),
            "bra.uni \t$L__publish;".into(),
        ],
    );
    t.push_str("$L__forward:\n");
    push(&mut t, &["mov.u32 \t%r11, %r15;".into(), "bra.uni \t$L__no_value;".into()]);
    t.push_str("$L__aborted:\n");
    push(
        &mut t,
        &[
            format!("red.add.u64 \t[%rd1+{}], 1;", o::CB_MESSAGES_ABORTED),
            "bra.uni \t$L__no_value;".into(),
        ],
    );
    t.push_str("$L__refused:\n");
    push(
        &mut t,
        &[
            format!("red.add.u64 \t[%rd1+{}], 1;", o::CB_MESSAGES_REFUSED),
            format!("mov.u32 \t%r11, {};", error::UNAUTHORIZED),
            "bra.uni \t$L__failed;".into(),
        ],
    );
    t.push_str("$L__wrong_type:\n");
    push(&mut t, &[format!("mov.u32 \t%r11, {};", error::WRONG_MESSAGE_TYPE)]);
    t.push_str("$L__failed:\n");
    push(
        &mut t,
        &[
            "{".into(),
            ".param .b64 rk_e_cb;".into(),
            ".param .b32 rk_e_code;".into(),
            ".param .b64 rk_e_seq;".into(),
            "st.param.b64 \t[rk_e_cb], %rd1;".into(),
            "st.param.b32 \t[rk_e_code], %r11;".into(),
            "st.param.b64 \t[rk_e_seq], %rd19;".into(),
            "call.uni \trk_record_error, (rk_e_cb, rk_e_code, rk_e_seq);".into(),
            "}".into(),
        ],
    );
    t.push_str("$L__no_value:\n");
    push(
        &mut t,
        &[
            "// a failed response (zeroed payload), so that no caller waits forever".into(),
            format!("add.u64 \t%rd27, %rd21, {};", o::SLOT_PAYLOAD),
            "add.u64 \t%rd28, %rd21, %rd10;".into(),
            "mov.u64 \t%rd26, 0;".into(),
        ],
    );
    t.push_str("$L__zero:\n");
    push(
        &mut t,
        &[
            "setp.ge.u64 \t%p1, %rd27, %rd28;".into(),
            "@%p1 bra \t$L__zeroed;".into(),
            "st.u64 \t[%rd27], %rd26;".into(),
            "add.u64 \t%rd27, %rd27, 8;".into(),
            "bra.uni \t$L__zero;".into(),
        ],
    );
    t.push_str("$L__zeroed:\n");
    push(&mut t, &[format!("mov.u64 \t%rd29, {:#X};", crate::abi::FAILED_RESPONSE_TYPE)]);
    t.push_str("$L__publish:\n");
    push(
        &mut t,
        &[
            format!("st.u16 \t[%rd21+{}], %r11;", o::SLOT_FAULT),
            "// the slot announces itself last, then tail".into(),
            format!("st.release.sys.u64 \t[%rd21+{}], %rd29;", o::SLOT_TYPE_ID),
            "add.u64 \t%rd13, %rd13, 1;".into(),
            format!("st.release.sys.u64 \t[%rd3+{}], %rd13;", o::Q_TAIL),
        ],
    );
    t.push_str("$L__consumed:\n");
    push(
        &mut t,
        &[
            "// free the input slot: clear its type id, then release head".into(),
            "mov.u64 \t%rd26, 0;".into(),
            format!("st.u64 \t[%rd17+{}], %rd26;", o::SLOT_TYPE_ID),
            "add.u64 \t%rd12, %rd12, 1;".into(),
            format!("st.release.sys.u64 \t[%rd2+{}], %rd12;", o::Q_HEAD),
            format!("ld.u64 \t%rd25, [%rd1+{}];", o::CB_MESSAGES_PROCESSED),
            "add.u64 \t%rd25, %rd25, 1;".into(),
            format!("st.release.sys.u64 \t[%rd1+{}], %rd25;", o::CB_MESSAGES_PROCESSED),
            "bra.uni \t$L__loop;".into(),
        ],
    );
    t.push_str("$L__idle:\n");
    push(&mut t, &[format!("nanosleep.u32 \t{idle_backoff_ns};"), "bra.uni \t$L__loop;".into()]);
    t.push_str("$L__terminate:\n");
    push(
        &mut t,
        &[
            format!("mov.u32 \t%r8, {};", ack::TERMINATED),
            format!("st.release.sys.u32 \t[%rd1+{}], %r8;", o::CB_ACKNOWLEDGED),
        ],
    );
    t.push_str("$L__exit:\n\tret;\n}\n\n");
    t
}

fn push(t: &mut String, lines: &[String]) {
    for line in lines {
        t.push('\t');
        t.push_str(line);
        t.push('\n');
    }
}
