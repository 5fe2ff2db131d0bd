//! The decoded instruction set: what the parser produces and the interpreter runs.
//!
//! Every operand is an index into the thread's register file ([`Reg`]). Immediates and
//! symbol addresses are not special: the decoder gives each one a slot of its own at the end
//! of the register file, filled once per module instance, so the run loop never asks
//! "register or immediate?". Branch targets are instruction indices, calls name a function
//! index. Nothing here holds a string.

/// Index into a thread's register file.
pub(crate) type Reg = u32;

/// Register slot that is never read: the `_` sink and absent optional operands.
pub(crate) const SINK: Reg = 0;

/// Integer (or bit-size) operand type: width in bits and signedness.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct IntTy {
    pub bits: u8,
    pub signed: bool,
}

impl IntTy {
    pub fn mask(self) -> u64 {
        if self.bits == 64 { u64::MAX } else { (1u64 << self.bits) - 1 }
    }
    /// Sign- or zero-extends the low `bits` of `v` to 64 bits (as an i64 pattern when signed).
    pub fn extend(self, v: u64) -> u64 {
        let shift = 64 - u32::from(self.bits);
        if self.signed { (((v << shift) as i64) >> shift) as u64 } else { v & self.mask() }
    }
}

/// Floating-point width.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FloatTy {
    F32,
    F64,
}

/// A scalar type of an instruction (`.u32`, `.f64`, `.pred`, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ty {
    Int(IntTy),
    Float(FloatTy),
    Pred,
}

impl Ty {
    pub fn bytes(self) -> u64 {
        match self {
            Ty::Int(t) => u64::from(t.bits / 8),
            Ty::Float(FloatTy::F32) => 4,
            Ty::Float(FloatTy::F64) => 8,
            Ty::Pred => 1,
        }
    }
}

/// IEEE rounding direction (`.rn .rz .rm .rp`, and the `i` forms of `cvt`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Round {
    Nearest,
    Zero,
    Down,
    Up,
}

/// State spaces (PTX ISA 5.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Space {
    Generic,
    Global,
    Shared,
    Local,
    Param,
    Const,
}

/// Memory ordering asked for by `.relaxed/.acquire/.release/.acq_rel/.sc/.volatile`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Order {
    Weak,
    Relaxed,
    Acquire,
    Release,
    AcqRel,
    SeqCst,
}

/// Two-operand integer operations (ISA 9.7.1, 9.7.8).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum IntOp {
    Add,
    Sub,
    MulLo,
    MulHi,
    Div,
    Rem,
    Min,
    Max,
    And,
    Or,
    Xor,
    Shl,
    Shr,
    AddSat,
    SubSat,
}

/// One-operand integer and bit operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum IntUnOp {
    Abs,
    Neg,
    Not,
    Cnot,
    Popc,
    Clz,
    Bfind { shift_amount: bool },
    Brev,
}

/// Carry-chain flavours of `add/sub`: `.cc` writes CC.CF, `addc/subc` read it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Carry {
    pub read: bool,
    pub write: bool,
}

/// Comparison operators of `setp`/`set`/`slct` (ISA 9.7.7.1, Table 20/21).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Lo,
    Ls,
    Hi,
    Hs,
    Equ,
    Neu,
    Ltu,
    Leu,
    Gtu,
    Geu,
    Num,
    Nan,
}

/// Boolean combiners (`.and .or .xor` of `setp`, and `and/or/xor.pred`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BoolOp {
    And,
    Or,
    Xor,
}

/// Float operations with two operands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FloatOp {
    Add,
    Sub,
    Mul,
    Div,
    DivApprox,
    Min,
    Max,
    Copysign,
}

/// Float operations with one operand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FloatUnOp {
    Abs,
    Neg,
    Sqrt,
    SqrtApprox,
    Rcp,
    RcpApprox,
    Rsqrt,
    Ex2,
    Lg2,
    Sin,
    Cos,
    Tanh,
    Testp(TestpOp),
}

/// `testp` properties.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TestpOp {
    Finite,
    Infinite,
    Number,
    NotANumber,
    Normal,
    Subnormal,
}

/// Float modifiers shared by the float families.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FloatMode {
    pub round: Round,
    pub ftz: bool,
    pub sat: bool,
}

/// `atom`/`red` operations (ISA 9.7.12.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AtomOp {
    Add,
    Min,
    Max,
    Inc,
    Dec,
    And,
    Or,
    Xor,
    Exch,
    Cas,
}

/// `shfl.sync` modes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ShflMode {
    Up,
    Down,
    Bfly,
    Idx,
}

/// `vote.sync` modes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum VoteMode {
    All,
    Any,
    Uni,
    Ballot,
}

/// Special registers read with `mov` (those that change while a thread runs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dynamic {
    Clock,
    Clock64,
    GlobalTimer,
    LaneMaskLt,
    LaneMaskLe,
    LaneMaskEq,
    LaneMaskGe,
    LaneMaskGt,
}

/// A memory operand: `[base + offset]` in a state space; `base` may be a constant slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Addr {
    pub base: Reg,
    pub offset: i32,
}

/// Up to four registers of a vector operand; `len` says how many are used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Regs {
    pub regs: [Reg; 4],
    pub len: u8,
}

/// A parameter copy performed by `call`: `len` bytes from one param offset to another.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ParamCopy {
    pub from: u32,
    pub to: u32,
    pub len: u32,
}

/// What `call` does, boxed to keep [`Op`] small.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CallSite {
    pub func: u32,
    pub args: Vec<ParamCopy>,
    pub rets: Vec<ParamCopy>,
}

/// One decoded instruction: an optional guard predicate and the operation.
#[derive(Clone, Debug)]
pub(crate) struct Inst {
    /// Guard predicate register, or [`SINK`] for "always".
    pub guard: Reg,
    /// `@!%p`: execute when the guard is false.
    pub guard_negated: bool,
    pub op: Op,
}

/// The operations. Each family's semantics live in `exec/<family>.rs`.
#[derive(Clone, Debug)]
pub(crate) enum Op {
    /// `mov` of bits (also `mov` of immediates and symbol addresses via constant slots).
    Mov {
        d: Reg,
        a: Reg,
        mask: u64,
    },
    /// `mov` from a special register that changes while the thread runs.
    MovDynamic {
        d: Reg,
        which: Dynamic,
    },
    /// `mov.b64 %rd, {lo, hi}` and friends: pack registers into one.
    Pack {
        d: Reg,
        parts: Regs,
        part_bits: u8,
    },
    /// `mov.b32 {lo, hi}, %r`: split a register into parts.
    Unpack {
        parts: Regs,
        a: Reg,
        part_bits: u8,
    },
    Int {
        op: IntOp,
        ty: IntTy,
        d: Reg,
        a: Reg,
        b: Reg,
    },
    // The most frequent integer operations, decoded to one variant each so that the run
    // loop dispatches once (signedness does not change their bits). See `Op::specialize`.
    Add32 {
        d: Reg,
        a: Reg,
        b: Reg,
    },
    Add64 {
        d: Reg,
        a: Reg,
        b: Reg,
    },
    Sub32 {
        d: Reg,
        a: Reg,
        b: Reg,
    },
    Sub64 {
        d: Reg,
        a: Reg,
        b: Reg,
    },
    MulLo32 {
        d: Reg,
        a: Reg,
        b: Reg,
    },
    MulLo64 {
        d: Reg,
        a: Reg,
        b: Reg,
    },
    And32 {
        d: Reg,
        a: Reg,
        b: Reg,
    },
    And64 {
        d: Reg,
        a: Reg,
        b: Reg,
    },
    Or32 {
        d: Reg,
        a: Reg,
        b: Reg,
    },
    Or64 {
        d: Reg,
        a: Reg,
        b: Reg,
    },
    Xor32 {
        d: Reg,
        a: Reg,
        b: Reg,
    },
    Xor64 {
        d: Reg,
        a: Reg,
        b: Reg,
    },
    Shl32 {
        d: Reg,
        a: Reg,
        b: Reg,
    },
    Shl64 {
        d: Reg,
        a: Reg,
        b: Reg,
    },
    IntCarry {
        op: IntOp,
        carry: Carry,
        ty: IntTy,
        d: Reg,
        a: Reg,
        b: Reg,
    },
    MulWide {
        ty: IntTy,
        d: Reg,
        a: Reg,
        b: Reg,
    },
    Mad {
        hi: bool,
        ty: IntTy,
        d: Reg,
        a: Reg,
        b: Reg,
        c: Reg,
    },
    MadWide {
        ty: IntTy,
        d: Reg,
        a: Reg,
        b: Reg,
        c: Reg,
    },
    Mul24 {
        hi: bool,
        ty: IntTy,
        d: Reg,
        a: Reg,
        b: Reg,
    },
    Sad {
        ty: IntTy,
        d: Reg,
        a: Reg,
        b: Reg,
        c: Reg,
    },
    IntUn {
        op: IntUnOp,
        ty: IntTy,
        d: Reg,
        a: Reg,
    },
    Bfe {
        ty: IntTy,
        d: Reg,
        a: Reg,
        pos: Reg,
        len: Reg,
    },
    Bfi {
        ty: IntTy,
        d: Reg,
        a: Reg,
        b: Reg,
        pos: Reg,
        len: Reg,
    },
    Prmt {
        d: Reg,
        a: Reg,
        b: Reg,
        c: Reg,
        mode: Option<u8>,
    },
    /// Predicate logic: `and/or/xor.pred`.
    PredBin {
        op: BoolOp,
        d: Reg,
        a: Reg,
        b: Reg,
    },
    PredNot {
        d: Reg,
        a: Reg,
    },
    Setp {
        cmp: Cmp,
        ty: Ty,
        ftz: bool,
        p: Reg,
        q: Reg,
        a: Reg,
        b: Reg,
        combine: Option<(BoolOp, Reg, bool)>,
    },
    /// `set`: like `setp` but writes all ones / 1.0f for true.
    Set {
        cmp: Cmp,
        ty: Ty,
        dty: Ty,
        d: Reg,
        a: Reg,
        b: Reg,
        combine: Option<(BoolOp, Reg, bool)>,
    },
    Selp {
        d: Reg,
        a: Reg,
        b: Reg,
        p: Reg,
    },
    Slct {
        ty: Ty,
        cty: Ty,
        d: Reg,
        a: Reg,
        b: Reg,
        c: Reg,
    },
    Float {
        op: FloatOp,
        ty: FloatTy,
        mode: FloatMode,
        d: Reg,
        a: Reg,
        b: Reg,
    },
    Fma {
        ty: FloatTy,
        mode: FloatMode,
        d: Reg,
        a: Reg,
        b: Reg,
        c: Reg,
    },
    FloatUn {
        op: FloatUnOp,
        ty: FloatTy,
        mode: FloatMode,
        d: Reg,
        a: Reg,
    },
    Cvt {
        dty: Ty,
        sty: Ty,
        round: Option<Round>,
        integral: bool,
        ftz: bool,
        sat: bool,
        d: Reg,
        a: Reg,
    },
    /// `cvta` to generic (`to_generic`) or back to the space's own addresses.
    Cvta {
        space: Space,
        to_generic: bool,
        d: Reg,
        a: Reg,
    },
    Ld {
        space: Space,
        ty: Ty,
        order: Order,
        d: Regs,
        addr: Addr,
    },
    /// `ld` of one scalar (no vector): `size` bytes, sign-extended from `size` when `signed`.
    LdScalar {
        space: Space,
        size: u8,
        signed: bool,
        order: Order,
        d: Reg,
        addr: Addr,
    },
    /// `st` of one scalar.
    StScalar {
        space: Space,
        size: u8,
        order: Order,
        a: Reg,
        addr: Addr,
    },
    /// Integer `cvt` that sign-extends from `from_bits`, then keeps the bits of `mask`.
    SignExtend {
        from_bits: u8,
        mask: u64,
        d: Reg,
        a: Reg,
    },
    St {
        space: Space,
        ty: Ty,
        order: Order,
        a: Regs,
        addr: Addr,
    },
    Atom {
        space: Space,
        op: AtomOp,
        ty: Ty,
        order: Order,
        d: Reg,
        addr: Addr,
        b: Reg,
        c: Reg,
    },
    Fence {
        order: Order,
    },
    /// `bar.sync`/`barrier.sync`/`bar.arrive`: `count` is [`SINK`] for "all threads".
    Bar {
        id: Reg,
        count: Reg,
        wait: bool,
    },
    Shfl {
        mode: ShflMode,
        d: Reg,
        p: Reg,
        a: Reg,
        b: Reg,
        c: Reg,
        mask: Reg,
    },
    Vote {
        mode: VoteMode,
        d: Reg,
        a: Reg,
        negate: bool,
        mask: Reg,
    },
    /// `bar.warp.sync`: the lanes of the member mask wait for each other.
    WarpSync {
        mask: Reg,
    },
    Activemask {
        d: Reg,
    },
    Bra {
        target: u32,
    },
    Call(Box<CallSite>),
    Ret,
    Exit,
    Trap,
    /// `nanosleep`: the host thread yields (the duration is a hint, as on the GPU).
    Nanosleep,
    /// Nothing to do (`pmevent`, prefetch hints).
    Nop,
}

impl Op {
    /// The single-dispatch form of a generic integer operation, where there is one.
    pub(crate) fn specialize(self) -> Op {
        match self {
            Op::Ld { space, ty: Ty::Int(t), order, d, addr } if d.len == 1 => {
                return Op::LdScalar {
                    space,
                    size: t.bits / 8,
                    signed: t.signed,
                    order,
                    d: d.regs[0],
                    addr,
                };
            }
            Op::Ld { space, ty, order, d, addr } if d.len == 1 => {
                return Op::LdScalar {
                    space,
                    size: ty.bytes() as u8,
                    signed: false,
                    order,
                    d: d.regs[0],
                    addr,
                };
            }
            Op::St { space, ty, order, a, addr } if a.len == 1 => {
                return Op::StScalar { space, size: ty.bytes() as u8, order, a: a.regs[0], addr };
            }
            // Integer conversions without saturation are a mask or a sign extension, except
            // into a narrower signed type (sign-extended into its register).
            Op::Cvt { dty: Ty::Int(dt), sty: Ty::Int(st), sat: false, d, a, .. }
                if !dt.signed || dt.bits == 64 =>
            {
                let mask = dt.mask();
                return if st.signed && st.bits < dt.bits {
                    Op::SignExtend { from_bits: st.bits, mask, d, a }
                } else {
                    Op::Mov { d, a, mask: mask & st.mask() }
                };
            }
            _ => {}
        }
        let Op::Int { op, ty, d, a, b } = self else { return self };
        match (op, ty.bits) {
            (IntOp::Add, 32) => Op::Add32 { d, a, b },
            (IntOp::Add, 64) => Op::Add64 { d, a, b },
            (IntOp::Sub, 32) => Op::Sub32 { d, a, b },
            (IntOp::Sub, 64) => Op::Sub64 { d, a, b },
            (IntOp::MulLo, 32) => Op::MulLo32 { d, a, b },
            (IntOp::MulLo, 64) => Op::MulLo64 { d, a, b },
            (IntOp::And, 32) => Op::And32 { d, a, b },
            (IntOp::And, 64) => Op::And64 { d, a, b },
            (IntOp::Or, 32) => Op::Or32 { d, a, b },
            (IntOp::Or, 64) => Op::Or64 { d, a, b },
            (IntOp::Xor, 32) => Op::Xor32 { d, a, b },
            (IntOp::Xor, 64) => Op::Xor64 { d, a, b },
            (IntOp::Shl, 32) => Op::Shl32 { d, a, b },
            (IntOp::Shl, 64) => Op::Shl64 { d, a, b },
            _ => Op::Int { op, ty, d, a, b },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn op_stays_small() {
        // The run loop copies nothing, but a smaller enum keeps more of the program in cache.
        assert!(std::mem::size_of::<Inst>() <= 48, "{}", std::mem::size_of::<Inst>());
    }

    #[test]
    fn extend_sign_and_zero() {
        let s8 = IntTy { bits: 8, signed: true };
        let u8 = IntTy { bits: 8, signed: false };
        assert_eq!(s8.extend(0x80), (-128i64) as u64);
        assert_eq!(u8.extend(0x1_80), 0x80);
        assert_eq!(IntTy { bits: 64, signed: true }.extend(u64::MAX), u64::MAX);
    }
}
