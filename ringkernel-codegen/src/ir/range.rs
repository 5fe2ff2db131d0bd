//! Integer value ranges of expressions, for [`super::loop_bound`]: `lo..=hi` holds every value
//! the expression can take, at every evaluation (a sound over-approximation; the full range of
//! the type when nothing better is known).
//!
//! What narrows a range: constants; locals that are never assigned after their `let` (their
//! initialiser's range) and device-function parameters that are never assigned (the range the
//! caller passed); `%`, `/`, `&` and `>>` on unsigned values with known divisors, masks and
//! shifts; `+`, `-` and `*` when no result in the operands' ranges can leave the type (then no
//! wrapping can happen); widening casts. Everything else has its type's range.

use std::collections::HashMap;

use super::*;

/// Every value an integer expression can take lies in `lo..=hi`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    /// The least value.
    pub lo: i128,
    /// The greatest value.
    pub hi: i128,
}

impl Range {
    /// Every value of `s` (`None`: a float, which ranges do not describe).
    pub fn of(s: Scalar) -> Option<Range> {
        if s == Scalar::Bool {
            return Some(Range { lo: 0, hi: 1 });
        }
        if !s.is_int() {
            return None;
        }
        let bits = s.size() * 8;
        Some(if s.is_signed_int() {
            Range { lo: -(1i128 << (bits - 1)), hi: (1i128 << (bits - 1)) - 1 }
        } else {
            Range { lo: 0, hi: (1i128 << bits) - 1 }
        })
    }

    /// `self` when `s` holds all of it, else all of `s`.
    fn within(self, s: Scalar) -> Option<Range> {
        let full = Range::of(s)?;
        Some(if self.lo >= full.lo && self.hi <= full.hi && self.lo <= self.hi {
            self
        } else {
            full
        })
    }
}

/// The ranges of one function's expressions.
pub struct Ranges<'a> {
    f: &'a Function,
    /// What the caller knows of each parameter (device functions).
    params: HashMap<LocalId, Range>,
    /// The initialiser of each local bound by exactly one `let` that has one.
    inits: HashMap<LocalId, ExprId>,
    /// How many statements change each local after its `let` (assignments, and `for` loops
    /// over it).
    changes: HashMap<LocalId, usize>,
}

impl<'a> Ranges<'a> {
    /// Ranges in `f`, whose parameters the caller bounds by `params` (in order; `None` or
    /// missing: unknown).
    pub fn new(f: &'a Function, params: &[Option<Range>]) -> Self {
        let mut changes: HashMap<LocalId, usize> = HashMap::new();
        let mut lets: HashMap<LocalId, Vec<Option<ExprId>>> = HashMap::new();
        walk_block(f, &f.body, 0, &mut |stmt, _| match stmt {
            Stmt::Assign(place, ..) => *changes.entry(place.root()).or_default() += 1,
            Stmt::For { var, .. } => *changes.entry(*var).or_default() += 1,
            Stmt::Let(local, init, _) => lets.entry(*local).or_default().push(*init),
            _ => {}
        });
        let params = f
            .params
            .iter()
            .zip(params)
            .filter(|(p, _)| !changes.contains_key(p))
            .filter_map(|(p, r)| Some((*p, (*r)?)))
            .collect();
        let inits = lets
            .into_iter()
            .filter_map(|(local, inits)| match inits[..] {
                [Some(init)] => Some((local, init)),
                _ => None,
            })
            .collect();
        Ranges { f, params, inits, changes }
    }

    /// How many statements of the function change `local` after its `let`.
    pub fn changes(&self, local: LocalId) -> usize {
        self.changes.get(&local).copied().unwrap_or(0)
    }

    /// The range of `local`'s only initialiser, if it has one.
    pub fn initial(&self, local: LocalId) -> Option<Range> {
        self.inits.get(&local).and_then(|init| self.expr(*init))
    }

    /// The range of an integer (or `bool`) expression; `None` for other types.
    pub fn expr(&self, id: ExprId) -> Option<Range> {
        self.bounded(id, 0)
    }

    fn bounded(&self, id: ExprId, depth: u32) -> Option<Range> {
        let node = self.f.expr(id);
        let s = node.ty.scalar()?;
        let full = Range::of(s)?;
        if depth > 32 {
            return Some(full);
        }
        let range = |e: ExprId| self.bounded(e, depth + 1).unwrap_or(full);
        let unsigned = !s.is_signed_int();
        let narrowed = match &node.kind {
            ExprKind::Const(Const::Int(bits)) => {
                let v = int_value(*bits, s);
                Range { lo: v, hi: v }
            }
            ExprKind::Const(Const::Bool(b)) => Range { lo: i128::from(*b), hi: i128::from(*b) },
            ExprKind::Local(local) => match (self.params.get(local), self.inits.get(local)) {
                (Some(r), _) => *r,
                (None, Some(init)) if self.changes(*local) == 0 => range(*init),
                _ => full,
            },
            ExprKind::Cast(e) => match self.f.expr(*e).ty.scalar().filter(|s| s.is_int()) {
                Some(_) => range(*e),
                None => full,
            },
            ExprKind::Binary(op, a, b) => {
                let (a, b) = (range(*a), range(*b));
                match op {
                    BinaryOp::Add => Range { lo: a.lo + b.lo, hi: a.hi + b.hi },
                    BinaryOp::Sub => Range { lo: a.lo - b.hi, hi: a.hi - b.lo },
                    BinaryOp::Mul if a.lo >= 0 && b.lo >= 0 => {
                        Range { lo: a.lo.saturating_mul(b.lo), hi: a.hi.saturating_mul(b.hi) }
                    }
                    BinaryOp::Rem if unsigned && b.lo >= 1 => {
                        Range { lo: 0, hi: a.hi.min(b.hi - 1) }
                    }
                    BinaryOp::Div if unsigned && b.lo >= 1 => {
                        Range { lo: a.lo / b.hi, hi: a.hi / b.lo }
                    }
                    BinaryOp::BitAnd if unsigned => Range { lo: 0, hi: a.hi.min(b.hi) },
                    BinaryOp::Shr
                        if unsigned && b.lo == b.hi && b.lo < i128::from(s.size() * 8) =>
                    {
                        Range { lo: a.lo >> b.lo, hi: a.hi >> b.lo }
                    }
                    _ => full,
                }
            }
            _ => full,
        };
        narrowed.within(s)
    }
}

/// A constant's bits as a value of `s`.
pub fn int_value(bits: u64, s: Scalar) -> i128 {
    let width = s.size() * 8;
    let bits = if width == 64 { bits } else { bits & ((1u64 << width) - 1) };
    if s.is_signed_int() {
        let shift = 64 - width;
        i128::from(((bits << shift) as i64) >> shift)
    } else {
        i128::from(bits)
    }
}

/// Calls `visit` on every statement of `block`, nested ones included (inside loops, `if`s
/// and block expressions), outer before inner, with the number of loops entered on the way
/// (`loops` for `block`'s own statements).
pub fn walk_block(f: &Function, block: &Block, loops: u32, visit: &mut impl FnMut(&Stmt, u32)) {
    for stmt in &block.stmts {
        visit(stmt, loops);
        match stmt {
            Stmt::Let(_, init, _) => {
                if let Some(init) = init {
                    walk_expr(f, *init, loops, visit);
                }
            }
            Stmt::Assign(place, _, value, _) => {
                walk_place(f, place, loops, visit);
                walk_expr(f, *value, loops, visit);
            }
            Stmt::Expr(e) => walk_expr(f, *e, loops, visit),
            Stmt::While(cond, body) => {
                walk_expr(f, *cond, loops + 1, visit);
                walk_block(f, body, loops + 1, visit);
            }
            Stmt::Loop(body) => walk_block(f, body, loops + 1, visit),
            Stmt::For { start, end, body, .. } => {
                walk_expr(f, *start, loops, visit);
                walk_expr(f, *end, loops, visit);
                walk_block(f, body, loops + 1, visit);
            }
            Stmt::Return(Some(value), _) => walk_expr(f, *value, loops, visit),
            Stmt::Return(None, _) | Stmt::Break(..) | Stmt::Continue(..) => {}
        }
    }
    if let Some(tail) = block.tail {
        walk_expr(f, tail, loops, visit);
    }
}

fn walk_place(f: &Function, place: &Place, loops: u32, visit: &mut impl FnMut(&Stmt, u32)) {
    match place {
        Place::Local(_) => {}
        Place::Field(base, _) => walk_place(f, base, loops, visit),
        Place::Index(base, index) => {
            walk_place(f, base, loops, visit);
            walk_expr(f, *index, loops, visit);
        }
    }
}

/// The statements inside an expression's blocks.
pub fn walk_expr(f: &Function, id: ExprId, loops: u32, visit: &mut impl FnMut(&Stmt, u32)) {
    match &f.expr(id).kind {
        ExprKind::Const(_) | ExprKind::Local(_) | ExprKind::Intrinsic(_) => {}
        ExprKind::Field(e, _)
        | ExprKind::Unary(_, e)
        | ExprKind::Cast(e)
        | ExprKind::ArrayRepeat(e, _) => walk_expr(f, *e, loops, visit),
        ExprKind::Index(a, b)
        | ExprKind::Binary(_, a, b)
        | ExprKind::And(a, b)
        | ExprKind::Or(a, b) => {
            walk_expr(f, *a, loops, visit);
            walk_expr(f, *b, loops, visit);
        }
        ExprKind::Call(_, args)
        | ExprKind::Math(_, args)
        | ExprKind::StructLit(args)
        | ExprKind::ArrayLit(args) => args.iter().for_each(|a| walk_expr(f, *a, loops, visit)),
        ExprKind::If(cond, then, otherwise) => {
            walk_expr(f, *cond, loops, visit);
            walk_block(f, then, loops, visit);
            if let Some(otherwise) = otherwise {
                walk_block(f, otherwise, loops, visit);
            }
        }
        ExprKind::Block(block) => walk_block(f, block, loops, visit),
    }
}
