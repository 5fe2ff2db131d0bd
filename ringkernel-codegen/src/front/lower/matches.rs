//! `match` on integers, `bool` and fieldless enums, lowered to what the IR already has: the scrutinee goes
//! into a temporary, each arm becomes a test (its pattern, then its guard) in a chain of
//! `if`s, and the last arm is the final `else`.
//!
//! Patterns: literals (negative ones included), `T::MAX` / `T::MIN` and the other associated
//! constants, ranges `a..=b`, `a..b`, `a..`, `..=b`, alternatives `p | q`, `_`, a binding
//! `n` and `n @ pattern`, and `if` guards. Exhaustiveness is checked like rustc: arms without
//! guards must cover every value of the scrutinee's type, or the error names the first value
//! left out. On an enum, patterns are its variants (`Op::Add`, `Self::Add` in its methods),
//! `|`, `_` and bindings; every variant must be covered.

use std::collections::HashMap;

use crate::ir::*;
use crate::layout::EnumDef;

use super::super::at;
use super::super::infer::Var;
use super::Lowerer;

/// What one pattern tests and which values it covers (inclusive ranges).
struct Pattern {
    /// `None`: matches everything.
    test: Option<ExprId>,
    covers: Vec<(i128, i128)>,
}

/// The values a scrutinee can have: an integer type's, `bool`'s, or an enum's variants
/// (held as its representation).
struct Domain {
    scalar: Scalar,
    enum_def: Option<EnumDef>,
}

impl Domain {
    fn name(&self) -> &str {
        self.enum_def.as_ref().map_or(self.scalar.name(), |d| d.name.as_str())
    }

    /// The first value no range in `covered` contains, as Rust would write it.
    fn first_uncovered(&self, covered: &mut [(i128, i128)]) -> Option<String> {
        match &self.enum_def {
            Some(def) => def
                .variants
                .iter()
                .find(|(_, d)| !covered.iter().any(|(a, b)| a <= d && d <= b))
                .map(|(variant, _)| format!("{}::{variant}", def.name)),
            None => first_uncovered(covered, self.scalar).map(|v| show(v, self.scalar)),
        }
    }
}

/// One lowered arm.
struct Arm {
    test: Option<ExprId>,
    body: Block,
    var: Var,
    span: Span,
}

/// The first value of `s` that no range in `covered` contains.
fn first_uncovered(covered: &mut [(i128, i128)], s: Scalar) -> Option<i128> {
    let (lo, hi) = s.int_range();
    covered.sort_unstable();
    let mut next = lo;
    for &(a, b) in covered.iter() {
        if a > next {
            return Some(next);
        }
        next = next.max(b.saturating_add(1));
        if next > hi {
            return None;
        }
    }
    (next <= hi).then_some(next)
}

fn show(value: i128, s: Scalar) -> String {
    match (s, value) {
        (Scalar::Bool, 0) => "false".into(),
        (Scalar::Bool, _) => "true".into(),
        _ => {
            let (lo, hi) = s.int_range();
            let name = s.name();
            if value == lo && s.is_signed_int() {
                format!("{name}::MIN")
            } else if value == hi {
                format!("{name}::MAX")
            } else {
                format!("{value}_{name}")
            }
        }
    }
}

impl Lowerer<'_> {
    pub(super) fn match_expr(&mut self, m: &syn::ExprMatch, span: Span) -> Option<(ExprId, Var)> {
        let (scrutinee, svar) = self.expr(&m.expr)?;
        let domain = match self.table.shallow(svar) {
            Some(Ty::Scalar(s)) if !s.is_float() => Domain { scalar: s, enum_def: None },
            Some(Ty::Enum(name, s)) => {
                Domain { scalar: s, enum_def: self.enums.get(&name).cloned() }
            }
            Some(Ty::Scalar(_)) => {
                self.error(
                    at(&m.expr),
                    "`match` on floats is not supported",
                    "compare with `<` / `==` in `if` / `else if`",
                );
                return None;
            }
            _ => {
                let found = self.table.describe(svar);
                self.error(at(&m.expr), format!("`match` needs an integer, `bool` or enum here, found `{found}`"), "match on an integer, `bool` or enum value of a known type (add a suffix or a `let` with a type)");
                return None;
            }
        };
        if m.arms.is_empty() {
            self.error(span, "a `match` needs at least one arm", "add `_ => ...`");
            return None;
        }
        self.scopes.push(HashMap::new());
        let temp = self.declare_var("(match scrutinee)", svar, false, LocalKind::Var, span);
        let mut arms = Vec::new();
        let mut covered = Vec::new();
        let mut failed = false;
        for arm in &m.arms {
            self.scopes.push(HashMap::new());
            let lowered = self.arm(arm, temp, svar, &domain, &mut covered);
            self.scopes.pop();
            match lowered {
                Some(arm) => arms.push(arm),
                None => failed = true,
            }
        }
        self.scopes.pop();
        if failed {
            return None;
        }
        if let Some(value) = domain.first_uncovered(&mut covered) {
            self.error(
                at(&m.expr),
                format!("non-exhaustive `match`: `{value}` is not covered"),
                "add an arm for it, or a last arm `_ => ...` (arms with `if` guards do not count)",
            );
            return None;
        }
        let var = arms[0].var;
        for arm in &arms[1..] {
            self.unify_or_report(var, arm.var, arm.span, "between the arms of `match`");
        }
        // Reaching the last `else` means no earlier arm matched: as the arms cover every
        // value, the last arm's pattern holds there (or the `else` is unreachable).
        let last = arms.pop()?;
        let mut chain = last.body;
        for arm in arms.into_iter().rev() {
            let test = match arm.test {
                Some(test) => test,
                None => {
                    let boolean = self.table.scalar(Scalar::Bool);
                    self.node(ExprKind::Const(Const::Bool(true)), boolean, arm.span).0
                }
            };
            let (node, _) = self.node(ExprKind::If(test, arm.body, Some(chain)), var, arm.span);
            chain = Block { stmts: Vec::new(), tail: Some(node) };
        }
        let mut block = Block { stmts: vec![Stmt::Let(temp, Some(scrutinee), span)], tail: None };
        block.stmts.extend(chain.stmts);
        block.tail = chain.tail;
        Some(self.node(ExprKind::Block(block), var, span))
    }

    fn arm(
        &mut self,
        arm: &syn::Arm,
        temp: LocalId,
        svar: Var,
        domain: &Domain,
        covered: &mut Vec<(i128, i128)>,
    ) -> Option<Arm> {
        let span = at(&arm.pat);
        let pattern = self.pattern(&arm.pat, temp, svar, domain, true)?;
        let guard = match &arm.guard {
            Some((_, guard)) => Some(self.condition(guard)?),
            None => None,
        };
        if guard.is_none() {
            covered.extend(pattern.covers);
        }
        let test = match (pattern.test, guard) {
            (Some(p), Some(g)) => {
                let boolean = self.table.scalar(Scalar::Bool);
                Some(self.node(ExprKind::And(p, g), boolean, span).0)
            }
            (p, g) => p.or(g),
        };
        let (body, var) = match &*arm.body {
            syn::Expr::Block(b) if b.label.is_none() => self.block(&b.block)?,
            other => {
                let wrapped = syn::Block {
                    brace_token: Default::default(),
                    stmts: vec![syn::Stmt::Expr(other.clone(), None)],
                };
                self.block(&wrapped)?
            }
        };
        Some(Arm { test, body, var, span: at(&*arm.body) })
    }

    /// Lowers a pattern against the temporary `temp`; bindings go into the current scope.
    fn pattern(
        &mut self,
        pat: &syn::Pat,
        temp: LocalId,
        svar: Var,
        domain: &Domain,
        may_bind: bool,
    ) -> Option<Pattern> {
        let span = at(pat);
        let scalar = domain.scalar;
        let everything = || Pattern { test: None, covers: vec![scalar.int_range()] };
        match pat {
            syn::Pat::Wild(_) => Some(everything()),
            syn::Pat::Paren(p) => self.pattern(&p.pat, temp, svar, domain, may_bind),
            syn::Pat::Ident(p) => {
                if p.by_ref.is_some() || p.mutability.is_some() {
                    self.error(
                        span,
                        "`ref` and `mut` bindings are not supported in `match`",
                        "bind the value (`n => ...`), then `let mut m = n;` in the arm",
                    );
                    return None;
                }
                if let Some(def) = domain
                    .enum_def
                    .as_ref()
                    .filter(|d| d.discriminant(&p.ident.to_string()).is_some())
                {
                    self.error(
                        span,
                        format!(
                            "`{}` here is a new binding that matches everything, not the variant",
                            p.ident
                        ),
                        format!("write the variant with its enum: `{}::{}`", def.name, p.ident),
                    );
                    return None;
                }
                if !may_bind {
                    self.error(
                        span,
                        "bindings inside `|` alternatives are not supported",
                        "bind the whole pattern: `n @ (1 | 2)`",
                    );
                    return None;
                }
                let inner = match &p.subpat {
                    Some((_, sub)) => self.pattern(sub, temp, svar, domain, false)?,
                    None => everything(),
                };
                // The binding is the scrutinee itself (it is never written): no copy.
                if let Some(scope) = self.scopes.last_mut() {
                    scope.insert(p.ident.to_string(), temp);
                }
                Some(inner)
            }
            syn::Pat::Or(o) => {
                let (mut tests, mut covers, mut everything_matches) =
                    (Vec::new(), Vec::new(), false);
                for case in &o.cases {
                    let part = self.pattern(case, temp, svar, domain, false)?;
                    covers.extend(part.covers);
                    match part.test {
                        Some(test) => tests.push(test),
                        None => everything_matches = true,
                    }
                }
                if everything_matches {
                    return Some(everything());
                }
                let boolean = self.table.scalar(Scalar::Bool);
                let test =
                    tests.into_iter().reduce(|a, b| self.node(ExprKind::Or(a, b), boolean, span).0);
                Some(Pattern { test, covers })
            }
            syn::Pat::Lit(l) => {
                let bound = syn::Expr::Lit(l.clone());
                let (value, node) = self.bound(&bound, svar, domain)?;
                let test = self.compare(BinaryOp::Eq, temp, svar, node, span);
                Some(Pattern { test: Some(test), covers: vec![(value, value)] })
            }
            syn::Pat::Path(p) => {
                let bound = syn::Expr::Path(p.clone());
                let (value, node) = self.bound(&bound, svar, domain)?;
                let test = self.compare(BinaryOp::Eq, temp, svar, node, span);
                Some(Pattern { test: Some(test), covers: vec![(value, value)] })
            }
            syn::Pat::Range(_) if domain.enum_def.is_some() => {
                self.error(
                    span,
                    "range patterns do not work on enums",
                    "list the variants with `|`: `Op::Add | Op::Sub`",
                );
                None
            }
            syn::Pat::Range(r) => {
                let (lo, hi) = scalar.int_range();
                let start = match &r.start {
                    Some(e) => Some(self.bound(e, svar, domain)?),
                    None => None,
                };
                let end = match &r.end {
                    Some(e) => Some(self.bound(e, svar, domain)?),
                    None => None,
                };
                let first = start.as_ref().map_or(lo, |(v, _)| *v);
                let last = match (&end, &r.limits) {
                    (Some((v, _)), syn::RangeLimits::Closed(_)) => *v,
                    (Some((v, _)), syn::RangeLimits::HalfOpen(_)) => *v - 1,
                    (None, _) => hi,
                };
                if first > last {
                    self.error(
                        span,
                        "this range pattern matches nothing",
                        "write the smaller bound first (`a..=b` with a <= b)",
                    );
                    return None;
                }
                let boolean = self.table.scalar(Scalar::Bool);
                let above =
                    start.map(|(_, node)| self.compare(BinaryOp::Ge, temp, svar, node, span));
                let below = end.map(|(_, node)| {
                    let op = if matches!(r.limits, syn::RangeLimits::Closed(_)) {
                        BinaryOp::Le
                    } else {
                        BinaryOp::Lt
                    };
                    self.compare(op, temp, svar, node, span)
                });
                let test = match (above, below) {
                    (Some(a), Some(b)) => Some(self.node(ExprKind::And(a, b), boolean, span).0),
                    (a, b) => a.or(b),
                };
                Some(Pattern { test, covers: vec![(first, last)] })
            }
            _ => {
                self.error(span, "this pattern is not supported in `match`", "use literals, `T::MAX`, ranges `a..=b`, `|`, `_`, `name` or `name @ pattern`, and `if` guards");
                None
            }
        }
    }

    /// `temp op node` as a `bool` node.
    fn compare(
        &mut self,
        op: BinaryOp,
        temp: LocalId,
        svar: Var,
        node: ExprId,
        span: Span,
    ) -> ExprId {
        let (local, _) = self.node(ExprKind::Local(temp), svar, span);
        let boolean = self.table.scalar(Scalar::Bool);
        self.node(ExprKind::Binary(op, local, node), boolean, span).0
    }

    /// A constant in a pattern: its value (checked against the scrutinee's type) and a node
    /// of that type.
    fn bound(&mut self, e: &syn::Expr, svar: Var, domain: &Domain) -> Option<(i128, ExprId)> {
        let span = at(e);
        let scalar = domain.scalar;
        let mismatch = |this: &mut Self, what: &str| {
            this.error(
                span,
                format!("mismatched types: a `{what}` pattern for a `{}` value", domain.name()),
                "patterns must be values of the scrutinee's type",
            );
        };
        if let Some(def) = &domain.enum_def {
            let syn::Expr::Path(p) = e else {
                mismatch(self, "literal");
                return None;
            };
            let (of, value) = self.enum_variant(&p.path, span)?;
            if of.name != def.name {
                mismatch(self, &of.name);
                return None;
            }
            let (node, _) = self.node(ExprKind::Const(Const::Int(value as u64)), svar, span);
            return Some((value, node));
        }
        let value = match e {
            syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Bool(b), .. }) => {
                if scalar != Scalar::Bool {
                    mismatch(self, "bool");
                    return None;
                }
                i128::from(b.value)
            }
            syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Int(i), .. }) => {
                let suffix = i.suffix();
                if scalar == Scalar::Bool
                    || (!suffix.is_empty() && Scalar::from_name(suffix) != Some(scalar))
                {
                    mismatch(self, if suffix.is_empty() { "integer" } else { suffix });
                    return None;
                }
                i.base10_digits().parse::<i128>().ok()?
            }
            syn::Expr::Path(p) => {
                let segments: Vec<String> =
                    p.path.segments.iter().map(|s| s.ident.to_string()).collect();
                let (lo, hi) = scalar.int_range();
                match segments.as_slice() {
                    [ty, c] if Scalar::from_name(ty) == Some(scalar) && c == "MAX" => hi,
                    [ty, c] if Scalar::from_name(ty) == Some(scalar) && c == "MIN" => lo,
                    _ => {
                        self.error(
                            span,
                            format!(
                                "`{}` is not a constant of `{}` a pattern can use",
                                segments.join("::"),
                                scalar.name()
                            ),
                            "use a literal or the type's `MAX` / `MIN`",
                        );
                        return None;
                    }
                }
            }
            _ => {
                self.error(
                    span,
                    "pattern bounds must be literals or `T::MAX` / `T::MIN`",
                    "write the value as a literal",
                );
                return None;
            }
        };
        let (lo, hi) = scalar.int_range();
        if value < lo || value > hi {
            self.error(
                span,
                format!("`{value}` is out of range for `{}`", scalar.name()),
                "patterns must be values of the scrutinee's type",
            );
            return None;
        }
        let constant =
            if scalar == Scalar::Bool { Const::Bool(value != 0) } else { Const::Int(value as u64) };
        let (node, _) = self.node(ExprKind::Const(constant), svar, span);
        Some((value, node))
    }
}
