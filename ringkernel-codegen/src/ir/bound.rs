//! How many loop iterations a function can run, when that is known before it runs.
//!
//! The execution budget (`max_steps`) counts loop bodies entered. A function whose every loop
//! is a `for` over constant bounds (iterating a fixed array, say) has a known most: if that is
//! within the budget, the budget can never run out and the PTX writer leaves the fuel counter
//! out (natively the counter runs, and never runs out either, so both sides agree).

use super::*;

/// Loop bodies `f` enters at most per call, those of the device functions it calls included;
/// `None` when a loop's trip count is not a constant (`while`, `loop`, a `for` over computed
/// bounds). Saturates at `u64::MAX`.
pub fn loop_bound(module: &Module, f: &Function) -> Option<u64> {
    Bound { module, f, depth: 0 }.block(&f.body)
}

struct Bound<'a> {
    module: &'a Module,
    f: &'a Function,
    /// Device function nesting (recursion is rejected by the checker; this is a guard).
    depth: u32,
}

impl Bound<'_> {
    fn block(&self, block: &Block) -> Option<u64> {
        let mut total = block.tail.map_or(Some(0), |t| self.expr(t))?;
        for stmt in &block.stmts {
            total = total.saturating_add(self.stmt(stmt)?);
        }
        Some(total)
    }

    fn stmt(&self, stmt: &Stmt) -> Option<u64> {
        match stmt {
            Stmt::Let(_, init, _) => init.map_or(Some(0), |e| self.expr(e)),
            Stmt::Assign(place, _, value, _) => {
                Some(self.place(place)?.saturating_add(self.expr(*value)?))
            }
            Stmt::Expr(e) => self.expr(*e),
            Stmt::While(..) | Stmt::Loop(_) => None,
            Stmt::For { var, start, end, inclusive, body } => {
                let s = self.f.local(*var).ty.scalar()?;
                let trips =
                    trip_count(self.constant(*start, s)?, self.constant(*end, s)?, *inclusive);
                let per_trip = 1u64.saturating_add(self.block(body)?);
                let bounds = self.expr(*start)?.saturating_add(self.expr(*end)?);
                Some(trips.saturating_mul(per_trip).saturating_add(bounds))
            }
            Stmt::Break(..) | Stmt::Continue(..) => Some(0),
            Stmt::Return(value, _) => value.map_or(Some(0), |v| self.expr(v)),
        }
    }

    fn place(&self, place: &Place) -> Option<u64> {
        match place {
            Place::Local(_) => Some(0),
            Place::Field(base, _) => self.place(base),
            Place::Index(base, index) => Some(self.place(base)?.saturating_add(self.expr(*index)?)),
        }
    }

    fn exprs(&self, ids: &[ExprId]) -> Option<u64> {
        ids.iter().try_fold(0u64, |total, e| Some(total.saturating_add(self.expr(*e)?)))
    }

    fn expr(&self, id: ExprId) -> Option<u64> {
        match &self.f.expr(id).kind {
            ExprKind::Const(_) | ExprKind::Local(_) | ExprKind::Intrinsic(_) => Some(0),
            ExprKind::Field(e, _) | ExprKind::Unary(_, e) | ExprKind::Cast(e) => self.expr(*e),
            ExprKind::ArrayRepeat(e, _) => self.expr(*e),
            ExprKind::Index(a, b)
            | ExprKind::Binary(_, a, b)
            | ExprKind::And(a, b)
            | ExprKind::Or(a, b) => self.exprs(&[*a, *b]),
            ExprKind::Math(_, args) | ExprKind::StructLit(args) | ExprKind::ArrayLit(args) => {
                self.exprs(args)
            }
            ExprKind::Call(func, args) => {
                let callee = self.module.function(*func);
                if self.depth > 64 {
                    return None;
                }
                let inner = Bound { module: self.module, f: callee, depth: self.depth + 1 };
                Some(self.exprs(args)?.saturating_add(inner.block(&callee.body)?))
            }
            ExprKind::If(cond, then, otherwise) => {
                let branches =
                    self.block(then)?.max(otherwise.as_ref().map_or(Some(0), |b| self.block(b))?);
                Some(self.expr(*cond)?.saturating_add(branches))
            }
            ExprKind::Block(block) => self.block(block),
        }
    }

    /// A constant bound's value as `s`'s integer.
    fn constant(&self, id: ExprId, s: Scalar) -> Option<i128> {
        let ExprKind::Const(Const::Int(bits)) = self.f.expr(id).kind else { return None };
        let width = s.size() * 8;
        let bits = if width == 64 { bits } else { bits & ((1u64 << width) - 1) };
        Some(if s.is_signed_int() {
            let shift = 64 - width;
            i128::from(((bits << shift) as i64) >> shift)
        } else {
            i128::from(bits)
        })
    }
}

fn trip_count(start: i128, end: i128, inclusive: bool) -> u64 {
    let count = end - start + i128::from(inclusive);
    u64::try_from(count.max(0)).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    #[test]
    fn constant_for_loops_are_bounded_and_others_are_not() {
        let bound = |body: &str| {
            let src = format!(
                "#[ring_kernel(id = \"k\")]\nfn k(_ctx: &mut RingContext, x: u32) -> u32 {{ let mut t = 0u32; {body} t }}"
            );
            let (module, handlers) = crate::dev::lower_source(&src).unwrap();
            super::loop_bound(&module, module.function(handlers[0].1))
        };
        assert_eq!(bound(""), Some(0));
        assert_eq!(bound("for i in 0..4 { t += i; }"), Some(4));
        assert_eq!(bound("for i in 2..=4 { for j in 0..10u32 { t += i + j; } }"), Some(3 * 11));
        assert_eq!(bound("for i in 5..2 { t += i; }"), Some(0));
        assert_eq!(bound("for i in -3i32..3 { t += i as u32; }"), Some(6));
        assert_eq!(
            bound("if x > 1 { for i in 0..9 { t += i; } } else { for i in 0..2 { t += i; } }"),
            Some(9)
        );
        assert_eq!(bound("for i in 0..x { t += i; }"), None);
        assert_eq!(bound("while t < x { t += 1; }"), None);
        assert_eq!(bound("loop { break; }"), None);
    }
}
