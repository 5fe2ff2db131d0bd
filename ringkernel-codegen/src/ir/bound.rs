//! How many loop iterations a function can run, when that is known before it runs.
//!
//! The execution budget (`max_steps`) counts loop bodies entered. A function whose loops all
//! have a known most has a known most in all: if that is within the budget, the budget can
//! never run out and the PTX writer leaves the fuel counter out (natively the counter runs,
//! and never runs out either, so both sides agree).
//!
//! A loop has a known most when it is
//! - a `for` whose start and end have known ranges ([`super::range`]): at most
//!   `max(end) - min(start)` trips (`+ 1` for `..=`), so `0..4`, `1..=n % 100` and a helper's
//!   `0..n` called with `x & 15` are bounded;
//! - a counted `while`: its condition is (a conjunction with) `v < limit` or `v <= limit`, the
//!   limit has a known range, `v` is an integer local that the loop changes only by
//!   unconditional `v += step` statements in its body (each step at least 1, none able to
//!   wrap `v` past its type), and no `continue` skips them. Each trip that goes on then raises
//!   `v` by at least the least step, from at least `v`'s type's least value.
//!
//! `loop` and every other `while` have no known most.

use super::range::{Range, Ranges, walk_block, walk_expr};
use super::*;

/// Loop bodies `f` enters at most per call, those of the device functions it calls included;
/// `None` when a loop's trip count is not known (see the module docs). Saturates at
/// `u64::MAX`.
pub fn loop_bound(module: &Module, f: &Function) -> Option<u64> {
    Bound { module, f, ranges: Ranges::new(f, &[]), depth: 0 }.block(&f.body)
}

struct Bound<'a> {
    module: &'a Module,
    f: &'a Function,
    ranges: Ranges<'a>,
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
            Stmt::Loop(_) => None,
            Stmt::While(cond, body) => {
                let trips = self.counted_while(*cond, body)?;
                let per_trip = 1u64.saturating_add(self.block(body)?);
                // The condition runs once more than the body.
                let tests = trips.saturating_add(1).saturating_mul(self.expr(*cond)?);
                Some(trips.saturating_mul(per_trip).saturating_add(tests))
            }
            Stmt::For { start, end, inclusive, body, .. } => {
                let (start_range, end_range) = (self.ranges.expr(*start)?, self.ranges.expr(*end)?);
                let trips = trip_count(start_range.lo, end_range.hi, *inclusive)
                    .min(self.window(*start, *end, *inclusive).unwrap_or(u64::MAX));
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
                let passed: Vec<Option<Range>> =
                    args.iter().map(|a| self.ranges.expr(*a)).collect();
                let ranges = Ranges::new(callee, &passed);
                let inner = Bound { module: self.module, f: callee, ranges, depth: self.depth + 1 };
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

    /// The most trips of `for _ in x..x + c` (`..=`), or `x - c..x`: both ends are
    /// evaluated once, at the same time, so they are `c` apart; when the `+` or `-` wraps,
    /// the range is empty. `None` for other ranges.
    fn window(&self, start: ExprId, end: ExprId, inclusive: bool) -> Option<u64> {
        let same = |a: ExprId, b: ExprId| match (&self.f.expr(a).kind, &self.f.expr(b).kind) {
            (ExprKind::Local(x), ExprKind::Local(y)) => x == y,
            _ => false,
        };
        let width = match (&self.f.expr(start).kind, &self.f.expr(end).kind) {
            (_, ExprKind::Binary(BinaryOp::Add, base, width)) if same(*base, start) => *width,
            (ExprKind::Binary(BinaryOp::Sub, base, width), _) if same(*base, end) => *width,
            _ => return None,
        };
        let most = self.ranges.expr(width)?.hi + i128::from(inclusive);
        Some(u64::try_from(most.max(0)).unwrap_or(u64::MAX))
    }

    /// The most trips of `while cond { body }` when it is a counted loop (see the module
    /// docs).
    fn counted_while(&self, cond: ExprId, body: &Block) -> Option<u64> {
        let mut statements_in_condition = false;
        walk_expr(self.f, cond, 0, &mut |_, _| statements_in_condition = true);
        if statements_in_condition {
            return None;
        }
        let mut conjuncts = vec![cond];
        let mut tests = Vec::new();
        while let Some(e) = conjuncts.pop() {
            match self.f.expr(e).kind {
                ExprKind::And(a, b) => conjuncts.extend([a, b]),
                ExprKind::Binary(op, lhs, rhs) => tests.extend(self.test(op, lhs, rhs)),
                _ => {}
            }
        }
        tests.into_iter().filter_map(|test| self.counter(test, body)).min()
    }

    /// `lhs op rhs` as the tests a counter can end: `v < limit`, `v <= limit` (or the same
    /// the other way round) counting up, `v > limit`, `v >= limit` counting down; both ways
    /// when both sides are locals.
    fn test(&self, op: BinaryOp, lhs: ExprId, rhs: ExprId) -> Vec<CounterTest> {
        let mut tests = Vec::new();
        for (side, limit, op) in [(lhs, rhs, Some(op)), (rhs, lhs, mirrored(op))] {
            let (ExprKind::Local(v), Some(op)) = (&self.f.expr(side).kind, op) else { continue };
            let (up, inclusive) = match op {
                BinaryOp::Lt => (true, false),
                BinaryOp::Le => (true, true),
                BinaryOp::Gt => (false, false),
                BinaryOp::Ge => (false, true),
                _ => continue,
            };
            tests.push(CounterTest { v: *v, limit, up, inclusive });
        }
        tests
    }

    /// The most trips of a loop over `body` that goes on only while `test` holds, if `body`
    /// counts `test.v` towards its limit.
    fn counter(&self, test: CounterTest, body: &Block) -> Option<u64> {
        let CounterTest { v, limit, up, inclusive } = test;
        let s = self.f.local(v).ty.scalar().filter(|s| s.is_int())?;
        let full = Range::of(s)?;
        let toward = if up { BinaryOp::Add } else { BinaryOp::Sub };
        let steps: Vec<Range> = body
            .stmts
            .iter()
            .filter_map(|stmt| match stmt {
                Stmt::Assign(Place::Local(l), Some(op), step, _) if *l == v && *op == toward => {
                    Some(self.ranges.expr(*step).unwrap_or(full))
                }
                _ => None,
            })
            .collect();
        let least_step = steps.iter().map(|r| r.lo).min()?;
        if least_step < 1 {
            return None;
        }
        // Nothing else in the loop changes `v`, and no `continue` skips the steps.
        let (mut changes, mut skips) = (0usize, false);
        walk_block(self.f, body, 0, &mut |stmt, loops| match stmt {
            Stmt::Assign(place, ..) if place.root() == v => changes += 1,
            Stmt::For { var, .. } if *var == v => changes += 1,
            Stmt::Continue(depth, _) if *depth == loops => skips = true,
            _ => {}
        });
        if changes != steps.len() || skips {
            return None;
        }
        // Where `v` starts: its initialiser's range when nothing but these steps changes it
        // (they only move it one way), else anywhere in its type.
        let start = match self.ranges.initial(v) {
            Some(initial) if self.ranges.changes(v) == steps.len() => initial,
            _ => full,
        };
        let moved: i128 = steps.iter().map(|r| r.hi).sum();
        let limit = self.ranges.expr(limit)?;
        let span = if up {
            // Trips begin below `end`; the steps must not wrap `v` past the type's top.
            let end = limit.hi + i128::from(inclusive);
            if end - 1 + moved > full.hi {
                return None;
            }
            end - start.lo
        } else {
            // Trips begin at `stop` or above; the steps must not wrap `v` below the bottom.
            let stop = limit.lo + i128::from(!inclusive);
            if stop - moved < full.lo {
                return None;
            }
            start.hi - stop + 1
        };
        let trips = if span <= 0 { 0 } else { (span + least_step - 1) / least_step };
        Some(u64::try_from(trips).unwrap_or(u64::MAX))
    }
}

/// A test that ends a counted loop: `v` moves `up` (or down) towards `limit`.
#[derive(Clone, Copy)]
struct CounterTest {
    v: LocalId,
    limit: ExprId,
    up: bool,
    /// `<=` / `>=` rather than `<` / `>`.
    inclusive: bool,
}

/// `a op b` as `b op' a`.
fn mirrored(op: BinaryOp) -> Option<BinaryOp> {
    Some(match op {
        BinaryOp::Lt => BinaryOp::Gt,
        BinaryOp::Le => BinaryOp::Ge,
        BinaryOp::Gt => BinaryOp::Lt,
        BinaryOp::Ge => BinaryOp::Le,
        _ => return None,
    })
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
        assert_eq!(bound("loop { break; }"), None);
    }

    fn bound_of(src: &str) -> Option<u64> {
        let (module, handlers) = crate::dev::lower_source(src).unwrap();
        super::loop_bound(&module, module.function(handlers[0].1))
    }

    fn handler(body: &str) -> Option<u64> {
        bound_of(&format!(
            "#[ring_kernel(id = \"k\")]\nfn k(_ctx: &mut RingContext, x: u32) -> u32 {{ let mut t = 0u32; {body} t }}"
        ))
    }

    #[test]
    fn for_loops_over_bounded_values_are_bounded() {
        const ALL: Option<u64> = Some(u32::MAX as u64);
        assert_eq!(handler("for i in 0..x % 10 { t += i; }"), Some(9));
        assert_eq!(handler("for i in 1..=(x & 15) { t += i; }"), Some(15));
        assert_eq!(handler("for i in 0..(x >> 28) { t += i; }"), Some(15));
        assert_eq!(handler("for i in 0..x / 1000000 { t += i; }"), Some(4294));
        assert_eq!(handler("let n = x % 8 + 2; for i in 0..n { t += i; }"), Some(9));
        assert_eq!(handler("for i in 0..(x % 4) as u64 { t += i as u32; }"), Some(3));
        // Any u32 is at most u32::MAX: bounded, far past any budget.
        assert_eq!(handler("for i in 0..x { t += i; }"), ALL);
        // A local assigned after its `let` has its type's range.
        assert_eq!(handler("let mut n = 5u32; n = x; for i in 0..n { t += i; }"), ALL);
        // A division by a value that may be 0, or a sum that may wrap, tells nothing.
        assert_eq!(handler("for i in 0..x % t { t += i; }"), ALL);
        assert_eq!(handler("for i in 0..(x % 8).wrapping_add(x) { t += i; }"), ALL);
    }

    #[test]
    fn windows_of_a_value_are_bounded_by_their_width() {
        assert_eq!(handler("for i in x..=x + 2 { t += i; }"), Some(3));
        assert_eq!(handler("for i in x..x + 4 { t += i; }"), Some(4));
        assert_eq!(handler("for i in x - 5..x { t += i; }"), Some(5));
        assert_eq!(handler("for i in x..x + (x % 3) { t += i; }"), Some(2));
        // Not the same value at both ends: bounded only by the type.
        assert_eq!(
            handler("let y = x / 2; for i in x..y + 2 { t += i; }"),
            Some(u32::MAX as u64 / 2 + 2)
        );
        assert_eq!(handler("for i in t..x + 2 { t += i; }"), Some(u32::MAX as u64));
    }

    #[test]
    fn a_device_function_knows_the_ranges_its_caller_passes() {
        let src = "#[device]\nfn sum(n: u32) -> u32 { let mut s = 0u32; for i in 0..n { s += i; } s }\n\
            #[device]\nfn reset(mut n: u32) -> u32 { n = n * 2; let mut s = 0u32; for i in 0..n { s += i; } s }\n\
            #[ring_kernel(id = \"k\")]\nfn k(_ctx: &mut RingContext, x: u32) -> u32 { sum(x % 100) + sum(7) }";
        assert_eq!(bound_of(src), Some(99 + 7));
        let reassigned = src.replace("sum(x % 100) + sum(7)", "reset(x % 100)");
        assert_eq!(bound_of(&reassigned), Some(u32::MAX as u64), "a parameter it assigns");
    }

    #[test]
    fn counted_while_loops_are_bounded_and_others_are_not() {
        assert_eq!(handler("while x > 1 && t < 1000 { t += 1; }"), Some(1000));
        assert_eq!(handler("while t <= 9 { t += 1; }"), Some(10));
        assert_eq!(handler("while t < 1000 { t += 2; }"), Some(500));
        assert_eq!(handler("while t < 10 { t += x % 3 + 1; }"), Some(10));
        let nested = "let mut n = 0u32; while n < 10 { for i in 0..3 { t += i; } n += 1; }";
        assert_eq!(handler(nested), Some(10 * 4));
        // Not counted: a step that may be 0, a skipped or conditional step, another write
        // (here by a nested loop), a limit at which the step wraps, a test the other way round.
        assert_eq!(handler("while t < 10 { t += x % 3; }"), None);
        assert_eq!(handler("while t < 1000 { if x > 3 { continue; } t += 1; }"), None);
        assert_eq!(handler("while t < 1000 { if x > 2 { t += 1; } }"), None);
        assert_eq!(handler("while t < 1000 { t += 1; t = 0; }"), None);
        assert_eq!(handler("while t < 10 { for i in 0..3 { t += 0 * i; } t += 1; }"), None);
        assert_eq!(handler("while t <= 4294967295 { t += 1; }"), None);
        assert_eq!(handler("let mut n = 5u32; while n >= 0 { n -= 1; }"), None);
        // A limit bounded only by its type: bounded, far past any budget.
        assert_eq!(handler("while t < x { t += 1; }"), Some(u32::MAX as u64));
        assert_eq!(handler("while x > t { t += 1; }"), Some(u32::MAX as u64));
        // Counting from the only initialiser, up or down, either way round.
        assert_eq!(handler("let mut i = 0i32; while i < 5 { t += 1; i += 1; }"), Some(5));
        assert_eq!(handler("let mut i = 0u32; while 5 > i { i += 1; }"), Some(5));
        assert_eq!(handler("let mut n: i32 = 10; while n >= 0 { n -= 1; }"), Some(11));
        assert_eq!(handler("let mut n = x % 7; while n > 0 { n -= 2; }"), None, "may wrap");
        assert_eq!(handler("let mut n = x % 7 + 2; while n > 1 { n -= 2; }"), Some(4));
        let digits = "let mut n: i32 = 10; while n >= 0 { let mut j: i32 = 0; while j < 3 { j += 1; } n -= 1; }";
        assert_eq!(handler(digits), Some(11 * (1 + 3)));
        // Changed before the loop as well: it may start anywhere in its type.
        let reset = "let mut i = 0i32; i = x as i32; while i < 5 { i += 1; }";
        assert_eq!(handler(reset), Some((1u64 << 31) + 5));
        // A `continue` of a nested loop does not skip the outer loop's step.
        let nested = "let mut n = 0u32; while n < 4 { for i in 0..2 { if i == x { continue; } t += i; } n += 1; }";
        assert_eq!(handler(nested), Some(4 * 3));
    }
}
