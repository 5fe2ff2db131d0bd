//! The checker: DSL rules on the typed IR, after the front end inferred every type.
//!
//! - operators and casts apply to the types they support;
//! - assignments target mutable places (never the message); a `let x;` is assigned before
//!   it is read, on every path;
//! - device functions do not call themselves, directly or not;
//! - features the GPU back end cannot honour yet (float `%`, `f64` transcendental functions)
//!   are rejected here rather than miscompiled.

use std::collections::BTreeSet;

use crate::diagnostic::Diagnostic;
use crate::ir::*;

/// Checks every function of `module`.
pub fn check_module(module: &Module) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for f in &module.functions {
        let mut checker = FnChecker { f, out: &mut out, breaks: Vec::new() };
        checker.exprs();
        let mut assigned: BTreeSet<LocalId> = f
            .locals
            .iter()
            .enumerate()
            .filter(|(_, l)| l.kind != LocalKind::Var)
            .map(|(i, _)| LocalId(i as u32))
            .collect();
        checker.block(&f.body, &mut assigned);
    }
    check_recursion(module, &mut out);
    out
}

struct FnChecker<'a> {
    f: &'a Function,
    out: &'a mut Vec<Diagnostic>,
    /// One entry per enclosing loop, innermost last: what is assigned on every `break`
    /// that leaves it so far (`None`: no `break` yet). After a `loop`, exactly that is.
    breaks: Vec<Option<BTreeSet<LocalId>>>,
}

impl FnChecker<'_> {
    fn error(&mut self, span: Span, message: String, help: &str) {
        self.out.push(Diagnostic::new(span, message).help(help));
    }

    fn scalar(&self, id: ExprId) -> Option<Scalar> {
        self.f.expr(id).ty.scalar()
    }

    fn is_enum(&self, id: ExprId) -> bool {
        matches!(self.f.expr(id).ty, Ty::Enum(..))
    }

    /// Operator and cast typing.
    fn exprs(&mut self) {
        for node in &self.f.exprs {
            match &node.kind {
                ExprKind::Binary(op, l, _) if !op.is_comparison() && self.is_enum(*l) => {
                    self.error(
                        node.span,
                        format!("`{}` is not defined for enum `{}`", op.symbol(), self.f.expr(*l).ty),
                        "enums compare (`==`, `<`, ...) and `match`; for arithmetic cast first: `op as u8`",
                    );
                }
                ExprKind::Unary(_, inner) if self.is_enum(*inner) => {
                    self.error(
                        node.span,
                        format!("operators cannot be applied to enum `{}`", self.f.expr(*inner).ty),
                        "cast it to its integer first: `op as u8`",
                    );
                }
                ExprKind::Cast(inner)
                    if self.is_enum(*inner) && !node.ty.scalar().is_some_and(Scalar::is_int) =>
                {
                    self.error(
                        node.span,
                        format!("cannot cast enum `{}` as `{}`", self.f.expr(*inner).ty, node.ty),
                        "an enum casts to integer types only (its discriminant)",
                    );
                }
                ExprKind::Binary(op, l, _) => {
                    let Some(s) = self.scalar(*l) else {
                        self.error(
                            node.span,
                            format!("operator cannot be applied to `{}`", self.f.expr(*l).ty),
                            "operators work on scalars; compare or combine fields one by one",
                        );
                        continue;
                    };
                    let ok = match op {
                        BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div => {
                            s != Scalar::Bool
                        }
                        BinaryOp::Rem => s.is_int(),
                        BinaryOp::BitAnd | BinaryOp::BitOr | BinaryOp::BitXor => !s.is_float(),
                        BinaryOp::Shl | BinaryOp::Shr => s.is_int(),
                        _ => true,
                    };
                    if !ok {
                        let help = if *op == BinaryOp::Rem && s.is_float() {
                            "float `%` is not supported on the GPU yet; use `x - y * (x / y).floor()`"
                        } else {
                            "check the operand types"
                        };
                        self.error(
                            node.span,
                            format!("`{}` is not defined for `{}`", op.symbol(), s.name()),
                            help,
                        );
                    }
                }
                ExprKind::Unary(op, inner) => {
                    let s = self.scalar(*inner);
                    let ok = match op {
                        UnaryOp::Neg => s.is_some_and(|s| s.is_float() || s.is_signed_int()),
                        UnaryOp::Not => s.is_some_and(|s| !s.is_float()),
                    };
                    if !ok {
                        self.error(
                            node.span,
                            format!(
                                "cannot apply `{}` to `{}`",
                                if *op == UnaryOp::Neg { "-" } else { "!" },
                                self.f.expr(*inner).ty
                            ),
                            "`-` needs a signed integer or a float, `!` a bool or an integer",
                        );
                    }
                }
                ExprKind::Cast(inner) => {
                    let (from, to) = (self.scalar(*inner), node.ty.scalar());
                    if matches!((from, to), (Some(f), Some(Scalar::Bool)) if f != Scalar::Bool)
                        || (from == Some(Scalar::Bool) && to.is_some_and(Scalar::is_float))
                        || from.is_none()
                    {
                        self.error(
                            node.span,
                            format!("cannot cast `{}` as `{}`", self.f.expr(*inner).ty, node.ty),
                            "compare with `!= 0` to get a bool; cast bools to integers",
                        );
                    }
                }
                ExprKind::Math(
                    fun @ (MathFn::Exp | MathFn::Ln | MathFn::Sin | MathFn::Cos),
                    args,
                ) if self.scalar(args[0]) == Some(Scalar::F64) => {
                    self.error(node.span, format!("`{}` on `f64` is not supported on the GPU yet", fun.name()), "compute it in `f32` (`(x as f32).exp() as f64`) or precompute it on the host");
                }
                _ => {}
            }
        }
    }

    /// Mutability and definite assignment along every path. Returns whether the block
    /// diverges (`return`, `break`, `continue`).
    fn block(&mut self, block: &Block, assigned: &mut BTreeSet<LocalId>) -> bool {
        for stmt in &block.stmts {
            if self.stmt(stmt, assigned) {
                return true;
            }
        }
        if let Some(tail) = block.tail {
            self.reads(tail, assigned);
        }
        false
    }

    fn stmt(&mut self, stmt: &Stmt, assigned: &mut BTreeSet<LocalId>) -> bool {
        match stmt {
            Stmt::Let(id, init, _) => {
                if let Some(init) = init {
                    self.reads(*init, assigned);
                    assigned.insert(*id);
                }
                false
            }
            Stmt::Assign(place, op, value, span) => {
                self.reads(*value, assigned);
                self.place_reads(place, assigned);
                let root = place.root();
                let local = self.f.local(root);
                let whole = matches!(place, Place::Local(_));
                if local.kind == LocalKind::Message {
                    self.error(
                        *span,
                        format!("the message `{}` is read-only", local.name),
                        "copy what you need into a `let mut` variable",
                    );
                } else if !local.mutable && (assigned.contains(&root) || !whole || op.is_some()) {
                    self.error(
                        *span,
                        format!("cannot assign twice to immutable variable `{}`", local.name),
                        "declare it `let mut`",
                    );
                } else if !assigned.contains(&root) && (!whole || op.is_some()) {
                    self.error(
                        *span,
                        format!("`{}` is used before it is assigned", local.name),
                        "give it a value first",
                    );
                }
                if whole {
                    assigned.insert(root);
                }
                false
            }
            Stmt::Expr(e) => {
                self.reads(*e, assigned);
                false
            }
            Stmt::While(cond, body) => {
                self.reads(*cond, assigned);
                self.breaks.push(None);
                self.block(body, &mut assigned.clone());
                self.breaks.pop();
                false
            }
            Stmt::Loop(body) => {
                self.breaks.push(None);
                self.block(body, &mut assigned.clone());
                // A `loop` ends only through a `break`: afterwards, what every one of them
                // had assigned is (`let x; loop { x = 1; break; }`, `break value`).
                match self.breaks.pop().flatten() {
                    Some(at_breaks) => {
                        *assigned = at_breaks;
                        false
                    }
                    None => true,
                }
            }
            Stmt::For { var, start, end, body, .. } => {
                self.reads(*start, assigned);
                self.reads(*end, assigned);
                let mut inner = assigned.clone();
                inner.insert(*var);
                self.breaks.push(None);
                self.block(body, &mut inner);
                self.breaks.pop();
                false
            }
            Stmt::Break(depth, _) => {
                let index = self.breaks.len().checked_sub(1 + *depth as usize);
                if let Some(slot) = index.and_then(|i| self.breaks.get_mut(i)) {
                    *slot = Some(match slot.take() {
                        None => assigned.clone(),
                        Some(before) => before.intersection(assigned).copied().collect(),
                    });
                }
                true
            }
            Stmt::Continue(..) => true,
            Stmt::Return(value, _) => {
                if let Some(v) = value {
                    self.reads(*v, assigned);
                }
                true
            }
        }
    }

    fn place_reads(&mut self, place: &Place, assigned: &mut BTreeSet<LocalId>) {
        match place {
            Place::Local(_) => {}
            Place::Field(base, _) => self.place_reads(base, assigned),
            Place::Index(base, index) => {
                self.reads(*index, assigned);
                self.place_reads(base, assigned);
            }
        }
    }

    /// Visits an expression in evaluation order, checking that locals are assigned.
    fn reads(&mut self, id: ExprId, assigned: &mut BTreeSet<LocalId>) {
        let node = self.f.expr(id);
        match &node.kind {
            ExprKind::Const(_) | ExprKind::Intrinsic(_) => {}
            ExprKind::Local(local) => {
                if !assigned.contains(local) {
                    let name = self.f.local(*local).name.clone();
                    self.error(
                        node.span,
                        format!("`{name}` is used before it is assigned"),
                        "give it a value on every path before reading it",
                    );
                    assigned.insert(*local);
                }
            }
            ExprKind::Field(base, _)
            | ExprKind::Unary(_, base)
            | ExprKind::Cast(base)
            | ExprKind::ArrayRepeat(base, _) => self.reads(*base, assigned),
            ExprKind::Index(a, b) | ExprKind::Binary(_, a, b) => {
                self.reads(*a, assigned);
                self.reads(*b, assigned);
            }
            ExprKind::And(a, b) | ExprKind::Or(a, b) => {
                self.reads(*a, assigned);
                self.reads(*b, &mut assigned.clone());
            }
            ExprKind::Call(_, args)
            | ExprKind::Math(_, args)
            | ExprKind::StructLit(args)
            | ExprKind::ArrayLit(args) => {
                for a in args {
                    self.reads(*a, assigned);
                }
            }
            ExprKind::If(cond, then, otherwise) => {
                self.reads(*cond, assigned);
                let mut then_set = assigned.clone();
                let then_diverges = self.block(then, &mut then_set);
                match otherwise {
                    None => {}
                    Some(other) => {
                        let mut else_set = assigned.clone();
                        let else_diverges = self.block(other, &mut else_set);
                        *assigned = match (then_diverges, else_diverges) {
                            (true, true) => assigned.clone(),
                            (true, false) => else_set,
                            (false, true) => then_set,
                            (false, false) => then_set.intersection(&else_set).copied().collect(),
                        };
                    }
                }
            }
            ExprKind::Block(block) => {
                self.block(block, assigned);
            }
        }
    }
}

fn check_recursion(module: &Module, out: &mut Vec<Diagnostic>) {
    fn callees(f: &Function) -> BTreeSet<FuncId> {
        f.exprs
            .iter()
            .filter_map(|e| if let ExprKind::Call(id, _) = &e.kind { Some(*id) } else { None })
            .collect()
    }
    let graph: Vec<BTreeSet<FuncId>> = module.functions.iter().map(callees).collect();
    for (start, f) in module.functions.iter().enumerate() {
        let mut stack: Vec<FuncId> = graph[start].iter().copied().collect();
        let mut seen = BTreeSet::new();
        while let Some(next) = stack.pop() {
            if next.0 as usize == start {
                out.push(
                    Diagnostic::new(
                        f.span,
                        format!("`{}` calls itself (directly or through other helpers)", f.name),
                    )
                    .help("recursion is not supported on the GPU; use a loop"),
                );
                break;
            }
            if seen.insert(next) {
                stack.extend(graph[next.0 as usize].iter().copied());
            }
        }
    }
}
