//! The typed intermediate representation, the contract between the front end, the checker
//! and the back ends.
//!
//! # Shape
//!
//! A [`Module`] holds struct layouts and [`Function`]s. Each function owns two arenas:
//! `locals` (every variable, parameter included) and `exprs` (every expression node); nodes
//! refer to each other by [`LocalId`] / [`ExprId`] handles, never by reference. Statements
//! live in [`Block`]s, which may end in a tail expression giving the block's value.
//!
//! # Typing rules (established by the front end, verified by the checker)
//!
//! - Every expression node carries its final [`Ty`]; there are no inference variables left.
//!   Unsuffixed integer literals that nothing constrains are `i32`, float literals `f64`,
//!   as in Rust.
//! - Arithmetic (`+ - * / %`), bit operators (`& | ^`) and comparisons need both operands
//!   of one scalar type; `&& || !` on `bool`; shifts take any integer on the right.
//! - Integer arithmetic wraps on overflow. Integer `/` and `%` by zero give 0 and record
//!   `abi::error::DIVISION_BY_ZERO`; `MIN / -1` wraps to `MIN` and `MIN % -1` is 0 (Rust's
//!   `wrapping_div`/`wrapping_rem`). Shift amounts are taken modulo the bit width
//!   (`wrapping_shl`/`wrapping_shr`).
//! - An array index is `usize`. Reading out of bounds gives 0 (every scalar of the element
//!   zero); writing out of bounds does nothing; both record `abi::error::INDEX_OUT_OF_BOUNDS`.
//! - `as` casts: integer ↔ integer (truncate or extend), integer ↔ float (float → integer
//!   saturates, NaN → 0, as in Rust), `f32` ↔ `f64`, `bool` → integer.
//! - Aggregates (arrays, structs) are values: assignment and `let` copy them.
//! - A fieldless enum ([`Ty::Enum`]) is held as its representation, the discriminant. It
//!   takes comparisons (`==`, `<`, ... on the discriminants, as `derive(PartialOrd)` orders
//!   them) and `as` casts to integers, nothing else. Its zero value is its first variant (an
//!   out-of-bounds read gives it); a load of a number that is no variant's discriminant gives
//!   the zero value too and records `abi::error::INVALID_VALUE`.
//!
//! These semantics are the same natively (the macros generate the same operations) and in
//! PTX, so a handler gives identical results on CPU and GPU.

use std::fmt;

pub use crate::layout::Scalar;

mod bound;
mod range;
pub use bound::loop_bound;

/// A position in the source text: 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Span {
    /// Line, from 1.
    pub line: u32,
    /// Column, from 1 (in characters).
    pub column: u32,
}

/// A type of the DSL.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Ty {
    /// `()`: statements, functions without a result.
    Unit,
    /// A scalar.
    Scalar(Scalar),
    /// `[T; N]`.
    Array(Box<Ty>, u32),
    /// A `#[derive(RingMessage)]` struct, by name.
    Struct(String),
    /// A fieldless `#[derive(RingMessage)]` enum, by name, held as its `#[repr]` integer
    /// (the discriminant); its variants are in [`Module::enums`].
    Enum(String, Scalar),
    /// A tuple `(T, U, ..)`. Only the front end has them: before a [`Module`] is returned
    /// each tuple type becomes the anonymous struct of [`Ty::tuple_name`] (fields `0`, `1`,
    /// .. laid out as `#[repr(C)]`), so the checker and the back ends never see one.
    Tuple(Vec<Ty>),
}

impl Ty {
    /// The scalar a value of this type is held as: the scalar itself, or an enum's
    /// representation.
    pub fn scalar(&self) -> Option<Scalar> {
        match self {
            Ty::Scalar(s) | Ty::Enum(_, s) => Some(*s),
            _ => None,
        }
    }

    /// The name of the anonymous struct that holds a tuple of `parts`: `(u32, f32)`,
    /// `(u8,)` for one part, as Rust writes the type.
    pub fn tuple_name(parts: &[Ty]) -> String {
        let names: Vec<String> = parts.iter().map(Ty::to_string).collect();
        if names.len() == 1 {
            format!("({},)", names[0])
        } else {
            format!("({})", names.join(", "))
        }
    }

    /// The enum's name, when this is an enum.
    pub fn enum_name(&self) -> Option<&str> {
        match self {
            Ty::Enum(name, _) => Some(name),
            _ => None,
        }
    }

    /// Whether values of this type live in memory rather than registers.
    pub fn is_aggregate(&self) -> bool {
        matches!(self, Ty::Array(..) | Ty::Struct(_))
    }
}

impl fmt::Display for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ty::Unit => f.write_str("()"),
            Ty::Scalar(s) => f.write_str(s.name()),
            Ty::Array(elem, len) => write!(f, "[{elem}; {len}]"),
            Ty::Struct(name) | Ty::Enum(name, _) => f.write_str(name),
            Ty::Tuple(parts) => f.write_str(&Ty::tuple_name(parts)),
        }
    }
}

/// Handle of a local in [`Function::locals`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LocalId(pub u32);

/// Handle of an expression in [`Function::exprs`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ExprId(pub u32);

/// Handle of a function in [`Module::functions`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FuncId(pub u32);

/// What a local is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LocalKind {
    /// A `let` binding or a `for` variable.
    Var,
    /// A by-value parameter of a device function.
    Param,
    /// The handler's message (read-only, in the input slot).
    Message,
    /// The handler's `&mut` state (in the actor's state memory).
    State,
}

/// A variable.
#[derive(Debug, Clone, PartialEq)]
pub struct Local {
    /// Name in the source.
    pub name: String,
    /// Type.
    pub ty: Ty,
    /// Declared `mut` (or `&mut` for the state).
    pub mutable: bool,
    /// What it is.
    pub kind: LocalKind,
    /// Where it was declared.
    pub span: Span,
}

/// A constant. Integers are stored as their two's-complement bits, truncated to the type.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Const {
    /// `true` / `false`.
    Bool(bool),
    /// An integer's bits.
    Int(u64),
    /// A float (an `f32` constant holds a value representable in `f32`).
    Float(f64),
}

/// Unary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    /// `-x` (wrapping for integers).
    Neg,
    /// `!x`: logical not of a `bool`, bitwise not of an integer.
    Not,
}

/// Binary operators (without `&&` / `||`, which are [`ExprKind::And`] / [`ExprKind::Or`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    /// `+`.
    Add,
    /// `-`.
    Sub,
    /// `*`.
    Mul,
    /// `/`.
    Div,
    /// `%`.
    Rem,
    /// `&`.
    BitAnd,
    /// `|`.
    BitOr,
    /// `^`.
    BitXor,
    /// `<<`.
    Shl,
    /// `>>` (arithmetic for signed types).
    Shr,
    /// `==`.
    Eq,
    /// `!=`.
    Ne,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
}

impl BinaryOp {
    /// The operator as written in Rust.
    pub fn symbol(self) -> &'static str {
        match self {
            Self::Add => "+",
            Self::Sub => "-",
            Self::Mul => "*",
            Self::Div => "/",
            Self::Rem => "%",
            Self::BitAnd => "&",
            Self::BitOr => "|",
            Self::BitXor => "^",
            Self::Shl => "<<",
            Self::Shr => ">>",
            Self::Eq => "==",
            Self::Ne => "!=",
            Self::Lt => "<",
            Self::Le => "<=",
            Self::Gt => ">",
            Self::Ge => ">=",
        }
    }

    /// Whether the result is `bool`.
    pub fn is_comparison(self) -> bool {
        matches!(self, Self::Eq | Self::Ne | Self::Lt | Self::Le | Self::Gt | Self::Ge)
    }
}

/// Math methods on scalars.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MathFn {
    /// `x.abs()` (wrapping for integers: `MIN.abs() == MIN`).
    Abs,
    /// `x.min(y)`.
    Min,
    /// `x.max(y)`.
    Max,
    /// `x.sqrt()` (floats, correctly rounded).
    Sqrt,
    /// `x.exp()` (`f32` only on the GPU, approximate).
    Exp,
    /// `x.ln()` (`f32` only on the GPU, approximate).
    Ln,
    /// `x.sin()` (`f32` only on the GPU, approximate).
    Sin,
    /// `x.cos()` (`f32` only on the GPU, approximate).
    Cos,
    /// `x.powi(n)` with an `i32` exponent.
    Powi,
    /// `x.mul_add(a, b)`: `x * a + b` with one rounding.
    MulAdd,
    /// `x.floor()`.
    Floor,
    /// `x.ceil()`.
    Ceil,
    /// `x.wrapping_add(y)`.
    WrappingAdd,
    /// `x.wrapping_sub(y)`.
    WrappingSub,
    /// `x.wrapping_mul(y)`.
    WrappingMul,
    /// `x.count_ones()` → `u32`.
    CountOnes,
    /// `x.leading_zeros()` → `u32`.
    LeadingZeros,
    /// `x.count_zeros()` → `u32`.
    CountZeros,
    /// `x.trailing_zeros()` → `u32` (the width for 0).
    TrailingZeros,
    /// `x.leading_ones()` → `u32`.
    LeadingOnes,
    /// `x.trailing_ones()` → `u32`.
    TrailingOnes,
    /// `x.rotate_left(n)` (`n: u32`, taken modulo the width).
    RotateLeft,
    /// `x.rotate_right(n)`.
    RotateRight,
    /// `x.swap_bytes()`.
    SwapBytes,
    /// `x.reverse_bits()`.
    ReverseBits,
    /// `x.is_power_of_two()` (unsigned) → `bool`.
    IsPowerOfTwo,
    /// `x.is_positive()` (signed) → `bool`.
    IsPositive,
    /// `x.is_negative()` (signed) → `bool`.
    IsNegative,
    /// `x.signum()`: -1/0/1 for signed integers; ±1.0 or NaN for floats.
    Signum,
    /// `x.abs_diff(y)` → the unsigned type of the same width.
    AbsDiff,
    /// `x.is_nan()` → `bool`.
    IsNan,
    /// `x.is_infinite()` → `bool`.
    IsInfinite,
    /// `x.is_finite()` → `bool`.
    IsFinite,
    /// `x.is_normal()` → `bool`.
    IsNormal,
    /// `x.is_subnormal()` → `bool`.
    IsSubnormal,
    /// `x.is_sign_positive()` → `bool` (the sign bit, NaN included).
    IsSignPositive,
    /// `x.is_sign_negative()` → `bool`.
    IsSignNegative,
    /// `x.to_bits()` → `u32` / `u64`.
    ToBits,
    /// `x.trunc()`.
    Trunc,
    /// `x.isqrt()`: the floor of the square root; a negative `x` gives 0 and records
    /// `abi::error::NEGATIVE_SQUARE_ROOT` (Rust's panics).
    Isqrt,
    /// `x.round()`: half away from zero.
    Round,
    /// `x.next_power_of_two()` (unsigned): 0 when it does not fit (Rust's release result).
    NextPowerOfTwo,
    /// `x.round_ties_even()`.
    RoundTiesEven,
    /// `x.fract()`: `x - x.trunc()`.
    Fract,
    /// `x.recip()`: `1 / x`, correctly rounded.
    Recip,
    /// `x.copysign(y)`: `x`'s magnitude with `y`'s sign.
    Copysign,
    /// `x.clamp(lo, hi)`, with Rust's comparisons in Rust's order and no panic when
    /// `lo > hi` (integers: `lo` wins; floats: `hi` wins, as the standard library's bodies do).
    Clamp,
    /// `x.div_euclid(y)` / `wrapping_div_euclid`: by zero gives 0 and records the error.
    DivEuclid,
    /// `x.rem_euclid(y)` / `wrapping_rem_euclid`: by zero gives 0 and records the error.
    RemEuclid,
    /// `x.pow(n)` / `x.wrapping_pow(n)` (`n: u32`): the DSL's integers wrap.
    Pow,
    /// `f32::from_bits(x)` / `f64::from_bits(x)` (the argument is the bits).
    FromBits,
    /// `x.saturating_add(y)`.
    SaturatingAdd,
    /// `x.saturating_sub(y)`.
    SaturatingSub,
    /// `x.saturating_mul(y)`.
    SaturatingMul,
    /// `x.saturating_pow(n)` (`n: u32`).
    SaturatingPow,
    /// Whether `x + y` overflows the type (the flag of `overflowing_add`) → `bool`.
    AddOverflows,
    /// Whether `x - y` overflows (the flag of `overflowing_sub`) → `bool`.
    SubOverflows,
    /// Whether `x * y` overflows (the flag of `overflowing_mul`) → `bool`.
    MulOverflows,
    /// `x.to_degrees()`, as the standard library computes it.
    ToDegrees,
    /// `x.to_radians()`, as the standard library computes it.
    ToRadians,
}

impl MathFn {
    /// The method name as written in Rust.
    pub fn name(self) -> &'static str {
        match self {
            Self::Abs => "abs",
            Self::Min => "min",
            Self::Max => "max",
            Self::Sqrt => "sqrt",
            Self::Exp => "exp",
            Self::Ln => "ln",
            Self::Sin => "sin",
            Self::Cos => "cos",
            Self::Powi => "powi",
            Self::MulAdd => "mul_add",
            Self::Floor => "floor",
            Self::Ceil => "ceil",
            Self::WrappingAdd => "wrapping_add",
            Self::WrappingSub => "wrapping_sub",
            Self::WrappingMul => "wrapping_mul",
            Self::CountOnes => "count_ones",
            Self::LeadingZeros => "leading_zeros",
            Self::CountZeros => "count_zeros",
            Self::TrailingZeros => "trailing_zeros",
            Self::LeadingOnes => "leading_ones",
            Self::TrailingOnes => "trailing_ones",
            Self::RotateLeft => "rotate_left",
            Self::RotateRight => "rotate_right",
            Self::SwapBytes => "swap_bytes",
            Self::ReverseBits => "reverse_bits",
            Self::IsPowerOfTwo => "is_power_of_two",
            Self::IsPositive => "is_positive",
            Self::IsNegative => "is_negative",
            Self::Signum => "signum",
            Self::AbsDiff => "abs_diff",
            Self::IsNan => "is_nan",
            Self::IsInfinite => "is_infinite",
            Self::IsFinite => "is_finite",
            Self::IsNormal => "is_normal",
            Self::IsSubnormal => "is_subnormal",
            Self::IsSignPositive => "is_sign_positive",
            Self::IsSignNegative => "is_sign_negative",
            Self::ToBits => "to_bits",
            Self::Trunc => "trunc",
            Self::Isqrt => "isqrt",
            Self::Round => "round",
            Self::NextPowerOfTwo => "next_power_of_two",
            Self::RoundTiesEven => "round_ties_even",
            Self::Fract => "fract",
            Self::Recip => "recip",
            Self::Copysign => "copysign",
            Self::Clamp => "clamp",
            Self::Pow => "pow",
            Self::DivEuclid => "div_euclid",
            Self::RemEuclid => "rem_euclid",
            Self::FromBits => "from_bits",
            Self::SaturatingAdd => "saturating_add",
            Self::SaturatingSub => "saturating_sub",
            Self::SaturatingMul => "saturating_mul",
            Self::SaturatingPow => "saturating_pow",
            Self::AddOverflows => "overflowing_add",
            Self::SubOverflows => "overflowing_sub",
            Self::MulOverflows => "overflowing_mul",
            Self::ToDegrees => "to_degrees",
            Self::ToRadians => "to_radians",
        }
    }
}

/// `ctx.*` intrinsics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Intrinsic {
    /// `ctx.now()` → `u64`: the actor's clock (see the runtime's `RingContext::now`).
    Now,
    /// `ctx.message_seq()` → `u64`.
    MessageSeq,
    /// `ctx.kernel_slot()` → `u32`.
    KernelSlot,
}

/// An expression. Its type is in the owning [`ExprNode`].
#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// A constant of the node's (scalar) type.
    Const(Const),
    /// The value of a local.
    Local(LocalId),
    /// Field `index` (declaration order) of a struct value.
    Field(ExprId, u32),
    /// Element of an array value; the index is `usize`.
    Index(ExprId, ExprId),
    /// Unary operator.
    Unary(UnaryOp, ExprId),
    /// Binary operator.
    Binary(BinaryOp, ExprId, ExprId),
    /// `a && b`, short-circuit.
    And(ExprId, ExprId),
    /// `a || b`, short-circuit.
    Or(ExprId, ExprId),
    /// `e as T` where T is the node's type.
    Cast(ExprId),
    /// A device function call.
    Call(FuncId, Vec<ExprId>),
    /// A math method; the receiver is the first argument.
    Math(MathFn, Vec<ExprId>),
    /// A context intrinsic.
    Intrinsic(Intrinsic),
    /// `if c { a } else { b }` as a value (or a statement, with type `()`).
    If(ExprId, Block, Option<Block>),
    /// A block as a value.
    Block(Block),
    /// A struct literal; field values in declaration order.
    StructLit(Vec<ExprId>),
    /// `[a, b, c]`.
    ArrayLit(Vec<ExprId>),
    /// `[x; N]`.
    ArrayRepeat(ExprId, u32),
}

/// An expression node.
#[derive(Debug, Clone, PartialEq)]
pub struct ExprNode {
    /// What it computes.
    pub kind: ExprKind,
    /// Its type.
    pub ty: Ty,
    /// Where it is in the source.
    pub span: Span,
}

/// Something that can be assigned to.
#[derive(Debug, Clone, PartialEq)]
pub enum Place {
    /// A local (or the state itself).
    Local(LocalId),
    /// A field of a place.
    Field(Box<Place>, u32),
    /// An element of an array place.
    Index(Box<Place>, ExprId),
}

impl Place {
    /// The local the place starts from.
    pub fn root(&self) -> LocalId {
        match self {
            Place::Local(id) => *id,
            Place::Field(base, _) | Place::Index(base, _) => base.root(),
        }
    }
}

/// A statement.
#[derive(Debug, Clone, PartialEq)]
pub enum Stmt {
    /// `let x [= init];`
    Let(LocalId, Option<ExprId>, Span),
    /// `place = value` or `place op= value`.
    Assign(Place, Option<BinaryOp>, ExprId, Span),
    /// An expression evaluated for its effects.
    Expr(ExprId),
    /// `while cond { body }`.
    While(ExprId, Block),
    /// `loop { body }`.
    Loop(Block),
    /// `for var in start..end` (or `..=` when `inclusive`).
    For {
        /// The loop variable.
        var: LocalId,
        /// Range start.
        start: ExprId,
        /// Range end.
        end: ExprId,
        /// `..=`.
        inclusive: bool,
        /// Loop body.
        body: Block,
    },
    /// `break` or `break 'label`: the number of loops around the target one to leave as
    /// well (0: the innermost loop).
    Break(u32, Span),
    /// `continue` or `continue 'label`: the same depth as `Break`'s.
    Continue(u32, Span),
    /// `return [value]`.
    Return(Option<ExprId>, Span),
}

/// Statements, optionally ending in a value.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Block {
    /// Statements in order.
    pub stmts: Vec<Stmt>,
    /// The block's value, when it has one.
    pub tail: Option<ExprId>,
}

/// Whether a function is a handler or a helper.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FnRole {
    /// A `#[ring_kernel]` or `#[rule]` handler: `(ctx, [state,] msg) -> R`.
    Handler {
        /// The state local, when the handler has one.
        state: Option<LocalId>,
        /// The message local.
        message: LocalId,
    },
    /// A `#[device]` helper.
    Device,
}

/// A function.
#[derive(Debug, Clone, PartialEq)]
pub struct Function {
    /// Name in the source.
    pub name: String,
    /// Handler or helper.
    pub role: FnRole,
    /// Parameters of a device function, in order (empty for handlers, whose inputs are in
    /// `role`).
    pub params: Vec<LocalId>,
    /// Result type.
    pub ret: Ty,
    /// Every local.
    pub locals: Vec<Local>,
    /// Every expression.
    pub exprs: Vec<ExprNode>,
    /// The body; its tail (if any) is the result.
    pub body: Block,
    /// Where the function starts.
    pub span: Span,
}

impl Function {
    /// The node of an expression.
    pub fn expr(&self, id: ExprId) -> &ExprNode {
        &self.exprs[id.0 as usize]
    }

    /// A local.
    pub fn local(&self, id: LocalId) -> &Local {
        &self.locals[id.0 as usize]
    }
}

/// A compilation unit: the structs and functions of one source text.
#[derive(Debug, Clone, PartialEq)]
pub struct Module {
    /// Layouts of every struct.
    pub structs: std::collections::BTreeMap<String, crate::layout::StructLayout>,
    /// Every enum, by name.
    pub enums: std::collections::BTreeMap<String, crate::layout::EnumDef>,
    /// Every function, handlers and helpers.
    pub functions: Vec<Function>,
}

impl Module {
    /// A function.
    pub fn function(&self, id: FuncId) -> &Function {
        &self.functions[id.0 as usize]
    }

    /// Bytes a value of `ty` takes (0 for `()` and for a struct this module does not know).
    pub fn size_of(&self, ty: &Ty) -> u32 {
        size_in(&self.structs, ty)
    }

    /// Every scalar of a value of `ty`, array elements and nested fields included: its byte
    /// offset and type, in layout order.
    pub fn scalar_cells(&self, ty: &Ty) -> Vec<(u32, Scalar)> {
        leaves_in(&self.structs, ty, true)
            .into_iter()
            .filter_map(|(offset, leaf)| leaf.scalar().map(|s| (offset, s)))
            .collect()
    }

    /// Every enum of a value of `ty`: its byte offset, the enum's name and representation.
    pub fn enum_cells(&self, ty: &Ty) -> Vec<(u32, String, Scalar)> {
        leaves_in(&self.structs, ty, true)
            .into_iter()
            .filter_map(|(offset, leaf)| match leaf {
                Ty::Enum(name, s) => Some((offset, name, s)),
                _ => None,
            })
            .collect()
    }

    /// The type of field `index` of struct `name`.
    pub fn field_ty(&self, name: &str, index: u32) -> Option<Ty> {
        let field = self.structs.get(name)?.fields.get(index as usize)?;
        Some(Ty::from(&field.ty))
    }
}

/// Bytes a value of `ty` takes under the layouts `structs` (0 for `()` and unknown structs).
pub fn size_in(
    structs: &std::collections::BTreeMap<String, crate::layout::StructLayout>,
    ty: &Ty,
) -> u32 {
    match ty {
        Ty::Unit | Ty::Tuple(_) => 0,
        Ty::Scalar(s) | Ty::Enum(_, s) => s.size(),
        Ty::Array(elem, n) => size_in(structs, elem).saturating_mul(*n),
        Ty::Struct(name) => structs.get(name).map_or(0, |l| l.size),
    }
}

/// Every scalar and enum of a value of `ty` under the layouts `structs`, with its byte
/// offset, in layout order: nested struct fields always, array elements when
/// `through_arrays` (the PTX writer preloads a message's leaves outside arrays only).
pub fn leaves_in(
    structs: &std::collections::BTreeMap<String, crate::layout::StructLayout>,
    ty: &Ty,
    through_arrays: bool,
) -> Vec<(u32, Ty)> {
    fn walk(
        structs: &std::collections::BTreeMap<String, crate::layout::StructLayout>,
        ty: &Ty,
        base: u32,
        through_arrays: bool,
        out: &mut Vec<(u32, Ty)>,
    ) {
        match ty {
            Ty::Unit | Ty::Tuple(_) => {}
            Ty::Scalar(_) | Ty::Enum(..) => out.push((base, ty.clone())),
            Ty::Array(elem, n) if through_arrays => {
                let size = size_in(structs, elem);
                for i in 0..*n {
                    walk(structs, elem, base + i * size, through_arrays, out);
                }
            }
            Ty::Array(..) => {}
            Ty::Struct(name) => {
                for field in structs.get(name).map_or(&[][..], |l| &l.fields[..]) {
                    walk(structs, &Ty::from(&field.ty), base + field.offset, through_arrays, out);
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(structs, ty, 0, through_arrays, &mut out);
    out
}

impl From<&crate::layout::FieldType> for Ty {
    fn from(ty: &crate::layout::FieldType) -> Self {
        match ty {
            crate::layout::FieldType::Scalar(s) => Ty::Scalar(*s),
            crate::layout::FieldType::Array(elem, len) => {
                Ty::Array(Box::new(Ty::from(&**elem)), *len)
            }
            crate::layout::FieldType::Struct(name) => Ty::Struct(name.clone()),
            crate::layout::FieldType::Enum(name, repr) => Ty::Enum(name.clone(), *repr),
        }
    }
}
