//! Expression lowering and the final resolution of types.

use crate::ir::*;

use super::super::at;
use super::methods::{associated_const, float_const};
use super::{Literal, Lowerer, Pending};

impl Lowerer<'_> {
    pub(super) fn expr(&mut self, e: &syn::Expr) -> Option<(ExprId, Var)> {
        let span = at(e);
        match e {
            syn::Expr::Lit(l) => self.literal(&l.lit, false, span),
            syn::Expr::Paren(p) => self.expr(&p.expr),
            syn::Expr::Group(g) => self.expr(&g.expr),
            syn::Expr::Path(p) => self.path_expr(p, span),
            syn::Expr::Field(f) => {
                let (base, bvar) = self.expr(&f.base)?;
                let (index, var) = self.field_of(bvar, &f.member, span)?;
                Some(self.node(ExprKind::Field(base, index), var, span))
            }
            syn::Expr::Index(i) => {
                let (base, bvar) = self.expr(&i.expr)?;
                let (index, ivar) = self.expr(&i.index)?;
                let elem = self.index_of(bvar, ivar, span)?;
                Some(self.node(ExprKind::Index(base, index), elem, span))
            }
            syn::Expr::Unary(u) => match u.op {
                syn::UnOp::Neg(_) => {
                    if let syn::Expr::Lit(syn::ExprLit { lit, .. }) = &*u.expr {
                        return self.literal(lit, true, span);
                    }
                    let (inner, var) = self.expr(&u.expr)?;
                    Some(self.node(ExprKind::Unary(UnaryOp::Neg, inner), var, span))
                }
                syn::UnOp::Not(_) => {
                    let (inner, var) = self.expr(&u.expr)?;
                    Some(self.node(ExprKind::Unary(UnaryOp::Not, inner), var, span))
                }
                syn::UnOp::Deref(_) => self.expr(&u.expr),
                _ => {
                    self.error(span, "this operator is not supported", "use `-`, `!` or `*state`");
                    None
                }
            },
            syn::Expr::Binary(b) => self.binary(b, span),
            syn::Expr::Cast(c) => {
                let (inner, _) = self.expr(&c.expr)?;
                let ty = self.written_type(&c.ty)?;
                if let Ty::Enum(name, _) = &ty {
                    self.error(
                        at(&c.ty),
                        format!("cannot cast to enum `{name}`"),
                        "an integer is not a variant; `match` on it and name the variants",
                    );
                    return None;
                }
                if ty.scalar().is_none() {
                    self.error(
                        at(&c.ty),
                        format!("cannot cast to `{ty}`"),
                        "`as` converts between scalar types only",
                    );
                    return None;
                }
                let var = self.table.known(&ty);
                Some(self.node(ExprKind::Cast(inner), var, span))
            }
            syn::Expr::MethodCall(m) => self.method_call(m, span),
            syn::Expr::Call(c) => self.call(c, span),
            syn::Expr::If(i) => self.if_expr(i, span),
            syn::Expr::Block(b) => {
                if b.label.is_some() {
                    self.error(span, "block labels are not supported", "remove the label");
                }
                let (block, var) = self.block(&b.block)?;
                Some(self.node(ExprKind::Block(block), var, span))
            }
            syn::Expr::Unsafe(_) => {
                self.error(
                    span,
                    "`unsafe` blocks are not allowed in kernels",
                    "kernels are safe Rust; remove `unsafe`",
                );
                None
            }
            syn::Expr::Struct(s) => self.struct_lit(s, span),
            syn::Expr::Array(a) => {
                let elem = self.table.unknown();
                let mut items = Vec::new();
                for item in &a.elems {
                    let (id, var) = self.expr(item)?;
                    self.unify_or_report(elem, var, at(item), "between array elements");
                    items.push(id);
                }
                let var = self.table.array(elem, items.len() as u32);
                Some(self.node(ExprKind::ArrayLit(items), var, span))
            }
            syn::Expr::Repeat(r) => {
                let (item, ivar) = self.expr(&r.expr)?;
                let len = match &*r.len {
                    syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Int(n), .. }) => {
                        n.base10_parse::<u32>().ok()
                    }
                    _ => None,
                };
                let Some(len) = len else {
                    self.error(
                        at(&r.len),
                        "array lengths must be integer literals",
                        "write the length as a number",
                    );
                    return None;
                };
                let var = self.table.array(ivar, len);
                Some(self.node(ExprKind::ArrayRepeat(item, len), var, span))
            }
            syn::Expr::Loop(l) => self.loop_value(l, span),
            syn::Expr::Assign(_)
            | syn::Expr::While(_)
            | syn::Expr::ForLoop(_)
            | syn::Expr::Return(_)
            | syn::Expr::Break(_)
            | syn::Expr::Continue(_) => {
                let mut block = Block::default();
                let diverges = self.statement(e, &mut block).unwrap_or(false);
                let var = if diverges { self.table.never() } else { self.table.known(&Ty::Unit) };
                Some(self.node(ExprKind::Block(block), var, span))
            }
            syn::Expr::Macro(m) => {
                self.macro_error(span, m.mac.path.segments.last().map(|s| s.ident.to_string()));
                None
            }
            syn::Expr::Closure(_) => {
                self.error(
                    span,
                    "closures are not supported in kernels",
                    "write a `#[device] fn` and call it",
                );
                None
            }
            syn::Expr::Await(_) => {
                self.error(span, "`.await` is not supported in kernel bodies", "handlers may be `async fn`, but their bodies run to completion on the GPU: remove `.await`");
                None
            }
            syn::Expr::Reference(_) => {
                self.error(
                    span,
                    "references are not supported in kernels",
                    "pass and copy values; only the handler's state is a reference",
                );
                None
            }
            syn::Expr::Match(m) => self.match_expr(m, span),
            syn::Expr::Tuple(t) if t.elems.is_empty() => {
                let unit = self.table.known(&Ty::Unit);
                Some(self.node(ExprKind::Block(Block::default()), unit, span))
            }
            syn::Expr::Tuple(t) => {
                let mut parts = Vec::new();
                let mut vars = Vec::new();
                for part in &t.elems {
                    let (id, var) = self.expr(part)?;
                    parts.push(id);
                    vars.push(var);
                }
                let var = self.table.tuple(vars);
                Some(self.node(ExprKind::StructLit(parts), var, span))
            }
            syn::Expr::Try(_) => {
                self.error(
                    span,
                    "`?` is not supported in kernels",
                    "kernels cannot fail; return a status field instead",
                );
                None
            }
            syn::Expr::Range(_) => {
                self.error(
                    span,
                    "ranges are only supported in `for` loops",
                    "write `for i in a..b`",
                );
                None
            }
            syn::Expr::Async(_) => {
                self.error(span, "`async` blocks are not supported in kernels", "remove `async`");
                None
            }
            _ => {
                self.error(
                    span,
                    "this expression is not supported in kernels",
                    "see the DSL reference in ringkernel-codegen's docs",
                );
                None
            }
        }
    }

    fn literal(&mut self, lit: &syn::Lit, negated: bool, span: Span) -> Option<(ExprId, Var)> {
        let (kind, var, literal) = match lit {
            syn::Lit::Int(i) => {
                let value: u128 = match i.base10_parse() {
                    Ok(v) => v,
                    Err(_) => {
                        self.error(
                            span,
                            "integer literal too large",
                            "integers are at most 64 bits",
                        );
                        return None;
                    }
                };
                let var = match i.suffix() {
                    "" => self.table.int(),
                    suffix => match Scalar::from_name(suffix) {
                        Some(s) if s.is_int() => self.table.scalar(s),
                        Some(s) if s.is_float() => self.table.scalar(s),
                        _ => {
                            self.error(
                                span,
                                format!("unknown literal suffix `{suffix}`"),
                                "use a suffix like `u32`, `i64` or `usize`",
                            );
                            return None;
                        }
                    },
                };
                let bits = if negated { (value as u64).wrapping_neg() } else { value as u64 };
                (ExprKind::Const(Const::Int(bits)), var, Literal::Int { value, negated })
            }
            syn::Lit::Float(f) => {
                let value: f64 = match f.base10_parse() {
                    Ok(v) => v,
                    Err(_) => {
                        self.error(span, "invalid float literal", "write a decimal number");
                        return None;
                    }
                };
                let var = match f.suffix() {
                    "" => self.table.float(),
                    "f32" => self.table.scalar(Scalar::F32),
                    "f64" => self.table.scalar(Scalar::F64),
                    suffix => {
                        self.error(
                            span,
                            format!("unknown literal suffix `{suffix}`"),
                            "use `f32` or `f64`",
                        );
                        return None;
                    }
                };
                (
                    ExprKind::Const(Const::Float(if negated { -value } else { value })),
                    var,
                    Literal::Float,
                )
            }
            syn::Lit::Bool(b) if !negated => {
                let var = self.table.scalar(Scalar::Bool);
                return Some(self.node(ExprKind::Const(Const::Bool(b.value)), var, span));
            }
            _ => {
                self.error(
                    span,
                    "this literal is not supported in kernels",
                    "use integer, float or bool literals",
                );
                return None;
            }
        };
        self.nodes.push(Pending { kind, var, span, literal: Some(literal) });
        Some((ExprId(self.nodes.len() as u32 - 1), var))
    }

    fn path_expr(&mut self, p: &syn::ExprPath, span: Span) -> Option<(ExprId, Var)> {
        if self.names_enum(&p.path) {
            return self.variant_value(&p.path, span);
        }
        let segments: Vec<String> = p.path.segments.iter().map(|s| s.ident.to_string()).collect();
        match segments.as_slice() {
            [name] => {
                if self.ctx.as_deref() == Some(name.as_str()) {
                    self.error(
                        span,
                        format!("`{name}` can only be used to call its intrinsics"),
                        "call `ctx.now()`, `ctx.message_seq()` or `ctx.kernel_slot()`",
                    );
                    return None;
                }
                match self.lookup(name) {
                    Some(id) => {
                        let var = self.locals[id.0 as usize].1;
                        Some(self.node(ExprKind::Local(id), var, span))
                    }
                    None if self.is_const(name) => self.const_value(name, span),
                    None => {
                        let help = if self.devices.contains_key(name) {
                            "call it: `name(args)`"
                        } else {
                            "declare it with `let` first, or mark the helper `#[device]`"
                        };
                        self.error(
                            span,
                            format!("cannot find value `{name}` in this kernel"),
                            help,
                        );
                        None
                    }
                }
            }
            [ty, constant] if Scalar::from_name(ty).is_some_and(|s| s != Scalar::Bool) => {
                let scalar = Scalar::from_name(ty)?;
                let Some((value, of)) = associated_const(scalar, constant) else {
                    self.error(
                        span,
                        format!("no associated constant `{ty}::{constant}` in kernels"),
                        "supported: MAX MIN BITS, and for floats EPSILON INFINITY NEG_INFINITY NAN MIN_POSITIVE",
                    );
                    return None;
                };
                let var = self.table.scalar(of);
                Some(self.node(ExprKind::Const(value), var, span))
            }
            [root, ty, consts, name]
                if (root == "core" || root == "std")
                    && (ty == "f32" || ty == "f64")
                    && consts == "consts" =>
            {
                let scalar = Scalar::from_name(ty)?;
                let Some(value) = float_const(name) else {
                    self.error(
                        span,
                        format!("no constant `{}`", segments.join("::")),
                        "see `core::f64::consts` for the names (PI, TAU, E, SQRT_2, LN_2, ...)",
                    );
                    return None;
                };
                let value = if scalar == Scalar::F32 { f64::from(value as f32) } else { value };
                let var = self.table.scalar(scalar);
                Some(self.node(ExprKind::Const(Const::Float(value)), var, span))
            }
            _ => {
                self.error(
                    span,
                    format!("unsupported path `{}`", segments.join("::")),
                    "use local names, `T::MAX` and the other associated constants, `core::f32::consts::PI`, or call `#[device]` helpers",
                );
                None
            }
        }
    }

    fn is_const(&self, name: &str) -> bool {
        self.body_consts.contains_key(name) || self.consts.contains_key(name)
    }

    /// A `const` item's value at a use: its expression, lowered where no local is visible
    /// (a const sees other consts only), with the const's declared type.
    fn const_value(&mut self, name: &str, span: Span) -> Option<(ExprId, Var)> {
        let item = self.body_consts.get(name).or_else(|| self.consts.get(name))?.clone();
        if self.const_stack.iter().any(|n| n == name) {
            self.error(
                span,
                format!("`{name}` is defined in terms of itself"),
                "break the cycle between the `const` items",
            );
            return None;
        }
        let ty = self.written_type(&item.ty)?;
        self.const_stack.push(name.to_owned());
        let scopes = std::mem::replace(&mut self.scopes, vec![std::collections::HashMap::new()]);
        let lowered = self.expr(&item.expr);
        self.scopes = scopes;
        self.const_stack.pop();
        let (id, var) = lowered?;
        let declared = self.table.known(&ty);
        self.unify_or_report(var, declared, at(&item.expr), &format!("for `const {name}`"));
        Some((id, declared))
    }

    fn binary(&mut self, b: &syn::ExprBinary, span: Span) -> Option<(ExprId, Var)> {
        use syn::BinOp as B;
        if super::compound_op(&b.op).is_some() {
            self.error(
                span,
                "compound assignment is a statement here",
                "write it on its own line, ending in `;`",
            );
            return None;
        }
        let (left, lvar) = self.expr(&b.left)?;
        let (right, rvar) = self.expr(&b.right)?;
        let (kind, var) = match b.op {
            B::And(_) | B::Or(_) => {
                let boolean = self.table.scalar(Scalar::Bool);
                self.unify_or_report(lvar, boolean, at(&b.left), "for `&&`/`||` (expected `bool`)");
                self.unify_or_report(
                    rvar,
                    boolean,
                    at(&b.right),
                    "for `&&`/`||` (expected `bool`)",
                );
                let kind = if matches!(b.op, B::And(_)) {
                    ExprKind::And(left, right)
                } else {
                    ExprKind::Or(left, right)
                };
                (kind, boolean)
            }
            B::Shl(_) | B::Shr(_) => {
                let int = self.table.int();
                self.unify_or_report(
                    rvar,
                    int,
                    at(&b.right),
                    "for a shift amount (expected an integer)",
                );
                let op = if matches!(b.op, B::Shl(_)) { BinaryOp::Shl } else { BinaryOp::Shr };
                (ExprKind::Binary(op, left, right), lvar)
            }
            _ => {
                let op = match b.op {
                    B::Add(_) => BinaryOp::Add,
                    B::Sub(_) => BinaryOp::Sub,
                    B::Mul(_) => BinaryOp::Mul,
                    B::Div(_) => BinaryOp::Div,
                    B::Rem(_) => BinaryOp::Rem,
                    B::BitAnd(_) => BinaryOp::BitAnd,
                    B::BitOr(_) => BinaryOp::BitOr,
                    B::BitXor(_) => BinaryOp::BitXor,
                    B::Eq(_) => BinaryOp::Eq,
                    B::Ne(_) => BinaryOp::Ne,
                    B::Lt(_) => BinaryOp::Lt,
                    B::Le(_) => BinaryOp::Le,
                    B::Gt(_) => BinaryOp::Gt,
                    B::Ge(_) => BinaryOp::Ge,
                    _ => {
                        self.error(span, "this operator is not supported", "see the DSL reference");
                        return None;
                    }
                };
                self.unify_or_report(lvar, rvar, span, "on the two sides of the operator");
                let var = if op.is_comparison() { self.table.scalar(Scalar::Bool) } else { lvar };
                (ExprKind::Binary(op, left, right), var)
            }
        };
        Some(self.node(kind, var, span))
    }

    fn call(&mut self, c: &syn::ExprCall, span: Span) -> Option<(ExprId, Var)> {
        if let syn::Expr::Path(p) = &*c.func {
            let segments: Vec<String> =
                p.path.segments.iter().map(|s| s.ident.to_string()).collect();
            if let [ty, function] = segments.as_slice() {
                if (ty == "f32" || ty == "f64") && function == "from_bits" {
                    return self.float_from_bits(c, ty, span);
                }
                if (function == "from_be" || function == "from_le")
                    && Scalar::from_name(ty).is_some_and(Scalar::is_int)
                {
                    return self.int_from_endian(c, ty, function, span);
                }
            }
        }
        let name = match &*c.func {
            syn::Expr::Path(p) => p.path.get_ident().map(|i| i.to_string()),
            _ => None,
        };
        let Some(name) = name else {
            self.error(
                span,
                "only `#[device]` functions can be called",
                "call a `#[device] fn` by its name",
            );
            return None;
        };
        let Some(sig) = self.devices.get(&name) else {
            self.error(
                span,
                format!("`{name}` is not a `#[device]` function in this source"),
                "mark the helper `#[device]`; other functions cannot run on the GPU",
            );
            return None;
        };
        let (id, params, ret) = (sig.id, sig.params.clone(), sig.ret.clone());
        self.device_call(id, &params, &ret, &name, Vec::new(), &c.args, span)
    }

    /// A call of device function `id` (`name` in messages) whose first arguments are already
    /// lowered (a method's receiver) and whose others are `written`: the count and every
    /// argument's type checked against `params`.
    pub(super) fn device_call(
        &mut self,
        id: FuncId,
        params: &[Ty],
        ret: &Ty,
        name: &str,
        mut args: Vec<ExprId>,
        written: &syn::punctuated::Punctuated<syn::Expr, syn::Token![,]>,
        span: Span,
    ) -> Option<(ExprId, Var)> {
        let expected_count = params.len().checked_sub(args.len());
        if expected_count != Some(written.len()) {
            let expected_count = expected_count.unwrap_or(0);
            self.error(
                span,
                format!("`{name}` takes {expected_count} argument(s), {} given", written.len()),
                "fix the argument count",
            );
            return None;
        }
        for (arg, ty) in written.iter().zip(&params[args.len()..]) {
            let (arg_id, var) = self.expr(arg)?;
            let expected = self.table.known(ty);
            self.unify_or_report(var, expected, at(arg), &format!("for an argument of `{name}`"));
            args.push(arg_id);
        }
        let var = self.table.known(ret);
        Some(self.node(ExprKind::Call(id, args), var, span))
    }

    fn if_expr(&mut self, i: &syn::ExprIf, span: Span) -> Option<(ExprId, Var)> {
        let cond = self.condition(&i.cond)?;
        let (then, tvar) = self.block(&i.then_branch)?;
        let (otherwise, var) = match &i.else_branch {
            None => {
                let unit = self.table.known(&Ty::Unit);
                self.unify_or_report(
                    tvar,
                    unit,
                    at(&i.then_branch),
                    "for an `if` without `else` (expected `()`)",
                );
                (None, unit)
            }
            Some((_, other)) => {
                let (block, evar) = match &**other {
                    syn::Expr::Block(b) => self.block(&b.block)?,
                    nested => {
                        let (id, var) = self.expr(nested)?;
                        (Block { stmts: Vec::new(), tail: Some(id) }, var)
                    }
                };
                self.unify_or_report(tvar, evar, span, "between the `if` and `else` branches");
                (Some(block), tvar)
            }
        };
        Some(self.node(ExprKind::If(cond, then, otherwise), var, span))
    }

    fn struct_lit(&mut self, s: &syn::ExprStruct, span: Span) -> Option<(ExprId, Var)> {
        let name = s.path.segments.last().map(|seg| seg.ident.to_string()).unwrap_or_default();
        let Some(layout) = self.structs.get(&name) else {
            self.error(
                span,
                format!("`{name}` is not a #[derive(RingMessage)] struct in this source"),
                "define it with `#[derive(RingMessage)] #[repr(C)]`",
            );
            return None;
        };
        if s.rest.is_some() {
            self.error(span, "`..base` in struct literals is not supported", "list every field");
        }
        let fields: Vec<(String, Ty)> =
            layout.fields.iter().map(|f| (f.name.clone(), Ty::from(&f.ty))).collect();
        let mut values: Vec<Option<ExprId>> = vec![None; fields.len()];
        // A field whose value already failed (an unsupported method, a bad name) was
        // reported there: it is not also a missing field.
        let mut failed = false;
        for field in &s.fields {
            let syn::Member::Named(ident) = &field.member else { continue };
            let fname = ident.to_string();
            let Some(index) = fields.iter().position(|(n, _)| *n == fname) else {
                self.error(
                    at(&field.member),
                    format!("struct `{name}` has no field `{fname}`"),
                    "check the field name",
                );
                failed = true;
                continue;
            };
            let Some((id, var)) = self.expr(&field.expr) else {
                failed = true;
                continue;
            };
            {
                let expected = self.table.known(&fields[index].1);
                self.unify_or_report(
                    var,
                    expected,
                    at(&field.expr),
                    &format!("for field `{fname}`"),
                );
                values[index] = Some(id);
            }
        }
        let missing: Vec<&str> = fields
            .iter()
            .zip(&values)
            .filter(|(_, v)| v.is_none())
            .map(|((n, _), _)| n.as_str())
            .collect();
        if failed {
            return None;
        }
        if !missing.is_empty() {
            self.error(
                span,
                format!("missing field(s) {} in `{name}`", missing.join(", ")),
                "give every field a value",
            );
            return None;
        }
        let var = self.table.known(&Ty::Struct(name));
        Some(self.node(ExprKind::StructLit(values.into_iter().flatten().collect()), var, span))
    }

    /// `loop { .. }` where its value is used: a local that each `break value` assigns
    /// before leaving, read after the loop. Without a `break` the loop never ends (its type
    /// fits anything); with plain `break`s its value is `()`.
    fn loop_value(&mut self, l: &syn::ExprLoop, span: Span) -> Option<(ExprId, Var)> {
        let var = self.table.unknown();
        let result = self.declare_var("$loop", var, true, LocalKind::Var, span);
        self.loops.push((super::label_name(&l.label), false, Some((result, var))));
        let body = self.unit_block(&l.body);
        let has_break = self.loops.pop().is_some_and(|(_, has_break, _)| has_break);
        let body = body?;
        let mut block = Block::default();
        block.stmts.push(Stmt::Let(result, None, span));
        block.stmts.push(Stmt::Loop(body));
        if !has_break {
            let never = self.table.never();
            let _ = self.table.unify(var, never);
            return Some(self.node(ExprKind::Block(block), never, span));
        }
        if self.table.shallow(var) == Some(Ty::Unit) {
            // Only plain `break`s: nothing was assigned, the value is `()`.
            return Some(self.node(ExprKind::Block(block), var, span));
        }
        block.tail = Some(self.node(ExprKind::Local(result), var, span).0);
        Some(self.node(ExprKind::Block(block), var, span))
    }

    /// Resolves every type variable and checks literal ranges.
    pub(super) fn finish(
        mut self,
        name: String,
        role: FnRole,
        params: Vec<LocalId>,
        ret: Ty,
        body: Block,
        span: Span,
    ) -> Function {
        let mut exprs = Vec::with_capacity(self.nodes.len());
        for node in std::mem::take(&mut self.nodes) {
            let ty = match self.table.resolve(node.var) {
                Some(ty) => ty,
                None => {
                    self.error(
                        node.span,
                        "type annotations needed: the type of this expression cannot be known",
                        "annotate the variable, e.g. `let x: u32 = ...`",
                    );
                    Ty::Unit
                }
            };
            if let (Some(literal), Ty::Scalar(scalar)) = (node.literal, &ty) {
                self.check_literal(literal, *scalar, node.span);
            }
            let kind = match (node.kind, &ty) {
                // An integer literal used as a float is a type error in Rust, reported by unify;
                // a float literal's value is rounded to f32 here when that is its type.
                (ExprKind::Const(Const::Float(v)), Ty::Scalar(Scalar::F32)) => {
                    ExprKind::Const(Const::Float(v as f32 as f64))
                }
                (kind, _) => kind,
            };
            exprs.push(ExprNode { kind, ty, span: node.span });
        }
        let mut locals = Vec::with_capacity(self.locals.len());
        for (mut local, var) in std::mem::take(&mut self.locals) {
            local.ty = match self.table.resolve(var) {
                Some(ty) => ty,
                None => {
                    self.error(
                        local.span,
                        format!("type annotations needed for `{}`", local.name),
                        "annotate it, e.g. `let x: u32;`",
                    );
                    Ty::Unit
                }
            };
            locals.push(local);
        }
        Function { name, role, params, ret, locals, exprs, body, span }
    }

    fn check_literal(&mut self, literal: Literal, scalar: Scalar, span: Span) {
        let Literal::Int { value, negated } = literal else { return };
        if scalar.is_float() {
            return;
        }
        let bits = scalar.size() * 8;
        let limit: u128 = if scalar.is_signed_int() {
            if negated { 1u128 << (bits - 1) } else { (1u128 << (bits - 1)) - 1 }
        } else if negated && value != 0 {
            self.error(
                span,
                format!("cannot apply unary `-` to a `{}` literal", scalar.name()),
                "unsigned integers have no negative values",
            );
            return;
        } else {
            (1u128 << bits) - 1
        };
        if value > limit {
            self.error(
                span,
                format!("literal out of range for `{}`", scalar.name()),
                format!(
                    "the largest `{}` is {}",
                    scalar.name(),
                    if scalar.is_signed_int() {
                        (1u128 << (bits - 1)) - 1
                    } else {
                        (1u128 << bits) - 1
                    }
                ),
            );
        }
    }
}

use super::super::infer::Var;
