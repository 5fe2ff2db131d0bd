//! Tuples. Destructured where they are made — `let (a, b) = (x, y);` (nested too, `_` and
//! `mut` in the pattern, an optional `(T, U)` annotation), `let (s, c) = x.sin_cos();` and
//! `let (v, overflowed) = a.overflowing_add(b);` (`_sub`, `_mul`) — each part goes to its own
//! local and no tuple value exists at run time. Every part is computed before any name is
//! bound, as in Rust (`let (a, b) = (b, a);` swaps). Any other tuple (kept in a local,
//! passed to or returned from a `#[device]` function, `t.0`) is a value: an anonymous
//! struct (see `ir::Ty::Tuple`), destructured from a temporary. Arrays destructure the same
//! way: `let [head, tail] = pair;`.

use crate::ir::*;

use super::super::at;
use super::super::infer::Var;
use super::Lowerer;

/// One binding a tuple pattern makes: the pattern's name, `mut`, value and where.
struct Binding {
    name: String,
    mutable: bool,
    value: ExprId,
    var: Var,
    span: Span,
}

impl Lowerer<'_> {
    /// `let <tuple pattern> [: (T, ..)] = init;`
    pub(super) fn let_tuple(
        &mut self,
        pat: &syn::PatTuple,
        annotation: Option<&syn::Type>,
        init: Option<&syn::Expr>,
        out: &mut Block,
    ) {
        let Some(init) = init else {
            self.error(
                at(pat),
                "a tuple pattern needs a value here",
                "write `let (a, b) = (x, y);`",
            );
            return;
        };
        let mut bindings = Vec::new();
        let whole = syn::Pat::Tuple(pat.clone());
        if self.destructure(&whole, annotation, init, out, &mut bindings) {
            for b in bindings {
                let id = self.declare_var(&b.name, b.var, b.mutable, LocalKind::Var, b.span);
                out.stmts.push(Stmt::Let(id, Some(b.value), b.span));
            }
        } else {
            // Reported already: the names still exist, of whatever type their uses want, so
            // that one mistake gives one error.
            self.declare_poisoned(&whole);
        }
    }

    /// `let [a, b, ..] [: [T; N]] = array;`: the array evaluated once, each name bound to
    /// its element (the pattern names every element: no `..`).
    pub(super) fn let_array(
        &mut self,
        pat: &syn::PatSlice,
        annotation: Option<&syn::Type>,
        init: Option<&syn::Expr>,
        out: &mut Block,
    ) {
        let whole = syn::Pat::Slice(pat.clone());
        let Some(init) = init else {
            self.error(
                at(pat),
                "an array pattern needs a value here",
                "write `let [a, b] = array;`",
            );
            self.declare_poisoned(&whole);
            return;
        };
        let Some((value, var)) = self.expr(init) else {
            self.declare_poisoned(&whole);
            return;
        };
        if let Some(ty) = annotation.and_then(|t| self.written_type(t)) {
            let known = self.table.known(&ty);
            self.unify_or_report(var, known, at(init), "in `let`");
        }
        let span = at(pat);
        let parts = match self.table.array_parts(var) {
            Some((elem, n)) if n as usize == pat.elems.len() => elem,
            _ => {
                let found = self.table.describe(var);
                self.error(
                    at(init),
                    format!(
                        "a pattern of {} elements needs an array of {}, not `{found}`",
                        pat.elems.len(),
                        pat.elems.len()
                    ),
                    "name every element: `let [a, b] = pair;` for a `[T; 2]`",
                );
                self.declare_poisoned(&whole);
                return;
            }
        };
        let array = self.temporary(value, var, span, out);
        let usize_var = self.table.scalar(Scalar::Usize);
        let mut bindings = Vec::new();
        for (i, element) in pat.elems.iter().enumerate() {
            let Some((name, mutable)) = self.pattern_ident(element) else {
                self.declare_poisoned(&whole);
                return;
            };
            let index = self.node(ExprKind::Const(Const::Int(i as u64)), usize_var, span).0;
            let value = self.node(ExprKind::Index(array, index), parts, span).0;
            bindings.push(Binding { name, mutable, value, var: parts, span: at(element) });
        }
        for b in bindings {
            let id = self.declare_var(&b.name, b.var, b.mutable, LocalKind::Var, b.span);
            out.stmts.push(Stmt::Let(id, Some(b.value), b.span));
        }
    }

    fn declare_poisoned(&mut self, pat: &syn::Pat) {
        match pat {
            syn::Pat::Tuple(t) => t.elems.iter().for_each(|p| self.declare_poisoned(p)),
            syn::Pat::Slice(s) => s.elems.iter().for_each(|p| self.declare_poisoned(p)),
            syn::Pat::Ident(p) => {
                let anything = self.table.never();
                let mutable = p.mutability.is_some();
                self.declare_var(&p.ident.to_string(), anything, mutable, LocalKind::Var, at(p));
            }
            _ => {}
        }
    }

    /// Lowers `e` against `pat`, collecting the bindings; false after an error (reported).
    fn destructure(
        &mut self,
        pat: &syn::Pat,
        annotation: Option<&syn::Type>,
        e: &syn::Expr,
        out: &mut Block,
        bindings: &mut Vec<Binding>,
    ) -> bool {
        let syn::Pat::Tuple(tuple) = pat else {
            let Some((value, var)) = self.expr(e) else { return false };
            if let Some(ty) = annotation.and_then(|t| self.written_type(t)) {
                let known = self.table.known(&ty);
                self.unify_or_report(var, known, at(e), "in `let`");
            }
            let Some((name, mutable)) = self.pattern_ident(pat) else { return false };
            bindings.push(Binding { name, mutable, value, var, span: at(pat) });
            return true;
        };
        let arity = tuple.elems.len();
        let annotations: Vec<Option<&syn::Type>> = match annotation {
            Some(syn::Type::Tuple(t)) if t.elems.len() == arity => {
                t.elems.iter().map(Some).collect()
            }
            Some(other) => {
                self.error(
                    at(other),
                    format!("a pattern of {arity} parts needs a tuple type of {arity} parts"),
                    "annotate each part: `let (a, b): (f32, u32) = ...`",
                );
                return false;
            }
            None => vec![None; arity],
        };
        match unparen(e) {
            syn::Expr::Tuple(parts) if parts.elems.len() == arity => {
                let mut ok = true;
                for ((p, part), ty) in tuple.elems.iter().zip(&parts.elems).zip(annotations) {
                    ok &= self.destructure(p, ty, part, out, bindings);
                }
                ok
            }
            syn::Expr::MethodCall(m) if arity == 2 && is_tuple_method(&m.method.to_string()) => {
                let Some(parts) = self.tuple_method(m, out) else { return false };
                for ((p, (value, var)), ty) in tuple.elems.iter().zip(parts).zip(annotations) {
                    if let Some(ty) = ty.and_then(|t| self.written_type(t)) {
                        let known = self.table.known(&ty);
                        self.unify_or_report(var, known, at(p), "in `let`");
                    }
                    match p {
                        syn::Pat::Tuple(_) => {
                            self.error(at(p), "this part is not a tuple", "bind it to a name");
                            return false;
                        }
                        _ => {
                            let Some((name, mutable)) = self.pattern_ident(p) else { return false };
                            bindings.push(Binding { name, mutable, value, var, span: at(p) });
                        }
                    }
                }
                true
            }
            other => {
                // A tuple value (a device function's result, a local, an `if`): evaluated
                // once, then its parts bound.
                let Some((value, var)) = self.expr(other) else { return false };
                if let Some(ty) = annotation.and_then(|t| self.written_type(t)) {
                    let known = self.table.known(&ty);
                    self.unify_or_report(var, known, at(other), "in `let`");
                }
                self.destructure_value(pat, value, var, at(other), out, bindings)
            }
        }
    }

    /// Binds the parts of the lowered tuple `value` to the tuple pattern `pat`.
    fn destructure_value(
        &mut self,
        pat: &syn::Pat,
        value: ExprId,
        var: Var,
        span: Span,
        out: &mut Block,
        bindings: &mut Vec<Binding>,
    ) -> bool {
        let syn::Pat::Tuple(tuple) = pat else {
            let Some((name, mutable)) = self.pattern_ident(pat) else { return false };
            bindings.push(Binding { name, mutable, value, var, span: at(pat) });
            return true;
        };
        let arity = tuple.elems.len();
        let parts = match self.table.tuple_parts(var) {
            Some(parts) if parts.len() == arity => parts,
            _ => {
                let found = self.table.describe(var);
                self.error(
                    span,
                    format!("expected a tuple of {arity} parts to destructure, found `{found}`"),
                    "the pattern needs one name (or `_`) per part",
                );
                return false;
            }
        };
        let whole = self.temporary(value, var, span, out);
        for (i, (p, part_var)) in tuple.elems.iter().zip(parts).enumerate() {
            let part = self.node(ExprKind::Field(whole, i as u32), part_var, span).0;
            if !self.destructure_value(p, part, part_var, span, out, bindings) {
                return false;
            }
        }
        true
    }

    /// The two parts of `x.sin_cos()` or `a.overflowing_{add,sub,mul}(b)`; the receiver (and
    /// the argument) are evaluated once, into locals of their own.
    fn tuple_method(
        &mut self,
        m: &syn::ExprMethodCall,
        out: &mut Block,
    ) -> Option<[(ExprId, Var); 2]> {
        let method = m.method.to_string();
        let span = at(m);
        let expected_args = usize::from(method != "sin_cos");
        if m.args.len() != expected_args {
            self.error(
                span,
                format!("`{method}` takes {expected_args} argument(s), {} given", m.args.len()),
                "fix the argument count",
            );
            return None;
        }
        let (receiver, rvar) = self.expr(&m.receiver)?;
        let receiver = self.temporary(receiver, rvar, span, out);
        let scalar = match self.table.shallow(rvar) {
            Some(Ty::Scalar(s)) => s,
            _ => {
                let found = self.table.describe(rvar);
                self.error(span, format!("can't call method `{method}` on `{found}`"), "the receiver needs a known scalar type: add a suffix (`2.0_f32`) or annotate the variable");
                return None;
            }
        };
        if method == "sin_cos" {
            if !scalar.is_float() {
                self.error(
                    span,
                    format!("no method `sin_cos` on `{}`", scalar.name()),
                    "`sin_cos` is a float function",
                );
                return None;
            }
            let sin =
                self.math_call(&format!("sin_{}", scalar.name()), vec![receiver], rvar, span)?;
            let cos =
                self.math_call(&format!("cos_{}", scalar.name()), vec![receiver], rvar, span)?;
            return Some([(sin, rvar), (cos, rvar)]);
        }
        if !scalar.is_int() {
            self.error(
                span,
                format!("no method `{method}` on `{}`", scalar.name()),
                "the `overflowing_` methods are for integers",
            );
            return None;
        }
        let (arg, avar) = self.expr(&m.args[0])?;
        self.unify_or_report(
            avar,
            rvar,
            at(&m.args[0]),
            &format!("for the argument of `{method}`"),
        );
        let arg = self.temporary(arg, avar, span, out);
        let (op, check) = match method.as_str() {
            "overflowing_add" => (BinaryOp::Add, MathFn::AddOverflows),
            "overflowing_sub" => (BinaryOp::Sub, MathFn::SubOverflows),
            _ => (BinaryOp::Mul, MathFn::MulOverflows),
        };
        let value = self.node(ExprKind::Binary(op, receiver, arg), rvar, span);
        let flag_var = self.table.scalar(Scalar::Bool);
        let flag = self.node(ExprKind::Math(check, vec![receiver, arg]), flag_var, span);
        Some([value, flag])
    }

    /// `value` in a fresh local, so that the parts that use it do not evaluate it again.
    fn temporary(&mut self, value: ExprId, var: Var, span: Span, out: &mut Block) -> ExprId {
        let id = self.declare_var("$part", var, false, LocalKind::Var, span);
        out.stmts.push(Stmt::Let(id, Some(value), span));
        self.node(ExprKind::Local(id), var, span).0
    }
}

fn is_tuple_method(method: &str) -> bool {
    matches!(method, "sin_cos" | "overflowing_add" | "overflowing_sub" | "overflowing_mul")
}

fn unparen(e: &syn::Expr) -> &syn::Expr {
    match e {
        syn::Expr::Paren(p) => unparen(&p.expr),
        other => other,
    }
}

/// Gives every tuple type of `module` its anonymous struct ([`Ty::tuple_name`], fields `0`,
/// `1`, ..) and rewrites the types to name it, so that nothing after the front end sees a
/// [`Ty::Tuple`].
pub(super) fn tuples_to_structs(module: &mut Module) -> Result<(), crate::layout::LayoutError> {
    use crate::layout::{FieldType, StructDef, compute_layouts};
    fn field_type(ty: &Ty) -> FieldType {
        match ty {
            Ty::Scalar(s) => FieldType::Scalar(*s),
            Ty::Enum(name, s) => FieldType::Enum(name.clone(), *s),
            Ty::Array(elem, n) => FieldType::Array(Box::new(field_type(elem)), *n),
            Ty::Struct(name) => FieldType::Struct(name.clone()),
            Ty::Tuple(parts) => FieldType::Struct(Ty::tuple_name(parts)),
            // A `()` part takes no bytes.
            Ty::Unit => FieldType::Array(Box::new(FieldType::Scalar(Scalar::U8)), 0),
        }
    }
    fn collect(ty: &Ty, out: &mut std::collections::BTreeMap<String, Vec<Ty>>) {
        match ty {
            Ty::Array(elem, _) => collect(elem, out),
            Ty::Tuple(parts) => {
                parts.iter().for_each(|p| collect(p, out));
                out.entry(Ty::tuple_name(parts)).or_insert_with(|| parts.clone());
            }
            _ => {}
        }
    }
    fn rewrite(ty: &mut Ty) {
        match ty {
            Ty::Array(elem, _) => rewrite(elem),
            Ty::Tuple(parts) => *ty = Ty::Struct(Ty::tuple_name(parts)),
            _ => {}
        }
    }
    let mut tuples = std::collections::BTreeMap::new();
    for f in &module.functions {
        let types = f.locals.iter().map(|l| &l.ty).chain(f.exprs.iter().map(|e| &e.ty));
        for ty in types.chain([&f.ret]) {
            collect(ty, &mut tuples);
        }
    }
    if tuples.is_empty() {
        return Ok(());
    }
    let mut defs: Vec<StructDef> = module
        .structs
        .values()
        .map(|l| StructDef {
            name: l.name.clone(),
            fields: l.fields.iter().map(|f| (f.name.clone(), f.ty.clone())).collect(),
        })
        .collect();
    for (name, parts) in &tuples {
        let fields = parts.iter().enumerate().map(|(i, p)| (i.to_string(), field_type(p)));
        defs.push(StructDef { name: name.clone(), fields: fields.collect() });
    }
    module.structs = compute_layouts(&defs)?;
    for f in &mut module.functions {
        let types =
            f.locals.iter_mut().map(|l| &mut l.ty).chain(f.exprs.iter_mut().map(|e| &mut e.ty));
        for ty in types.chain([&mut f.ret]) {
            rewrite(ty);
        }
    }
    Ok(())
}
