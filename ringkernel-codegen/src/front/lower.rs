//! syn function bodies → IR, with type inference ([`super::infer`]).

use std::collections::{BTreeMap, HashMap};

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::ir::*;
use crate::layout::{EnumDef, StructLayout};

use super::infer::{Table, Var};
use super::types::value_type;
use super::{KernelAttrs, SourceItems, at};

/// Lowers every handler and device function; returns the module and, for each handler, its
/// attributes and function id.
pub(crate) fn lower_module(
    items: &SourceItems,
    structs: BTreeMap<String, StructLayout>,
    diags: &mut Diagnostics,
) -> (Module, Vec<(KernelAttrs, FuncId)>) {
    let enums = &items.enums;
    let mut devices = device_signatures(&items.devices, 0, enums, diags);
    let method_base = items.devices.len() as u32;
    for (index, (self_ty, f)) in items.methods.iter().enumerate() {
        let (params, ret) = signature(f, Some(self_ty), enums, diags);
        let id = FuncId(method_base + index as u32);
        devices
            .insert(method_key(self_ty, &f.sig.ident.to_string()), DeviceSig { id, params, ret });
    }
    let consts: HashMap<String, syn::ItemConst> =
        items.consts.iter().map(|c| (c.ident.to_string(), c.clone())).collect();
    // The math library joins the module (after the source's own functions) when the source
    // calls one of its methods.
    let base = (items.devices.len() + items.methods.len() + items.handlers.len()) as u32;
    let (library_functions, math) = if library::uses_library(items) {
        library::lower_library(base, &structs, diags)
    } else {
        (Vec::new(), HashMap::new())
    };
    let shared =
        Shared { structs: &structs, enums, devices: &devices, consts: &consts, math: &math };
    let mut functions = Vec::new();
    for f in &items.devices {
        functions.push(lower_fn(f, None, None, &shared, diags));
    }
    for (self_ty, f) in &items.methods {
        functions.push(lower_fn(f, None, Some(self_ty), &shared, diags));
    }
    let mut handlers = Vec::new();
    for (attrs, f) in &items.handlers {
        handlers.push((attrs.clone(), FuncId(functions.len() as u32)));
        functions.push(lower_fn(f, Some(attrs), None, &shared, diags));
    }
    functions.extend(library_functions);
    let mut module = Module { structs, enums: enums.clone(), functions };
    if let Err(err) = tuples::tuples_to_structs(&mut module) {
        diags.push(Diagnostic::new(Span::default(), format!("tuple types: {err}")));
    }
    (module, handlers)
}

/// What a literal node was written as, for range checks once its type is known.
#[derive(Clone, Copy)]
enum Literal {
    Int { value: u128, negated: bool },
    Float,
}

struct Pending {
    kind: ExprKind,
    var: Var,
    span: Span,
    literal: Option<Literal>,
}

/// An enclosing loop: its label, whether a `break` leaves it, and for a `loop` whose value
/// is used, the local its `break value`s assign and that value's type.
type LoopFrame = (Option<String>, bool, Option<(LocalId, Var)>);

/// What every function of a source sees.
struct Shared<'a> {
    structs: &'a BTreeMap<String, StructLayout>,
    enums: &'a BTreeMap<String, EnumDef>,
    devices: &'a HashMap<String, DeviceSig>,
    consts: &'a HashMap<String, syn::ItemConst>,
    /// The math library's functions by name (`sin_f64`), when the module has them.
    math: &'a HashMap<String, DeviceSig>,
}

struct Lowerer<'a> {
    structs: &'a BTreeMap<String, StructLayout>,
    /// The source's enums.
    enums: &'a BTreeMap<String, EnumDef>,
    /// The type a method's `self` has (`Self` in its body).
    self_ty: Option<Ty>,
    devices: &'a HashMap<String, DeviceSig>,
    /// The math library's functions by name.
    math: &'a HashMap<String, DeviceSig>,
    /// The handler's `fast_math` setting.
    fast_math: bool,
    /// Module-level `const` items.
    consts: &'a HashMap<String, syn::ItemConst>,
    /// `const` items declared in the function's body.
    body_consts: HashMap<String, syn::ItemConst>,
    /// The consts being lowered (a const that uses itself is a cycle).
    const_stack: Vec<String>,
    diags: &'a mut Diagnostics,
    table: Table,
    locals: Vec<(Local, Var)>,
    nodes: Vec<Pending>,
    scopes: Vec<HashMap<String, LocalId>>,
    ret: Var,
    ctx: Option<String>,
    /// Enclosing loops, innermost last: label, whether a `break` leaves it, and for a
    /// `loop` whose value is used, the local its `break value`s assign and its type.
    loops: Vec<LoopFrame>,
}

fn lower_fn(
    f: &syn::ItemFn,
    handler: Option<&KernelAttrs>,
    self_ty: Option<&String>,
    shared: &Shared<'_>,
    diags: &mut Diagnostics,
) -> Function {
    let mut l = Lowerer {
        structs: shared.structs,
        enums: shared.enums,
        self_ty: self_ty.map(|name| super::types::named_type(name, shared.enums)),
        devices: shared.devices,
        math: shared.math,
        fast_math: handler.is_some_and(|h| h.fast_math),
        consts: shared.consts,
        body_consts: HashMap::new(),
        const_stack: Vec::new(),
        diags,
        table: Table::default(),
        locals: Vec::new(),
        nodes: Vec::new(),
        scopes: vec![HashMap::new()],
        ret: 0,
        ctx: None,
        loops: Vec::new(),
    };
    let name = f.sig.ident.to_string();
    let span = at(&f.sig.ident);
    if !f.sig.generics.params.is_empty() {
        l.diags.push(
            Diagnostic::new(
                at(&f.sig.generics),
                format!("`{name}` is generic; kernels and device functions cannot be"),
            )
            .help("use concrete types"),
        );
    }
    let ret_ty = match &f.sig.output {
        syn::ReturnType::Default => Ty::Unit,
        syn::ReturnType::Type(_, ty) => l.written_type(ty).unwrap_or(Ty::Unit),
    };
    if handler.is_some() && matches!(ret_ty, Ty::Tuple(_)) {
        if let syn::ReturnType::Type(_, ty) = &f.sig.output {
            l.diags.push(
                Diagnostic::new(
                    at(ty),
                    "a handler cannot return a tuple: Rust does not fix its layout",
                )
                .help("return a #[derive(RingMessage)] #[repr(C)] struct with named fields"),
            );
        }
    }
    l.ret = l.table.known(&ret_ty);
    let mut params = Vec::new();
    let role = match handler {
        Some(_) => match l.handler_params(f) {
            Some(role) => role,
            None => {
                let role = FnRole::Handler { state: None, message: LocalId(0) };
                return l.finish(name, role, params, ret_ty, Block::default(), span);
            }
        },
        None => {
            if f.sig.asyncness.is_some() {
                l.diags.push(
                    Diagnostic::new(at(&f.sig.ident), "device functions cannot be `async`")
                        .help("remove `async`"),
                );
            }
            for arg in &f.sig.inputs {
                match (arg, self_ty) {
                    (syn::FnArg::Receiver(r), Some(name)) => {
                        if r.mutability.is_some() || r.colon_token.is_some() {
                            l.diags.push(
                                Diagnostic::new(at(r), "methods take `self` or `&self` only")
                                    .help("a method cannot change its struct: return the new value's fields, or copy it, `let mut p = *self;`"),
                            );
                        }
                        let _ = name;
                        let ty = l.self_ty.clone().unwrap_or(Ty::Unit);
                        params.push(l.declare("self", ty, false, LocalKind::Param, at(r)));
                    }
                    (syn::FnArg::Typed(t), _) => {
                        let ty = l.written_type(&t.ty).unwrap_or(Ty::Unit);
                        let binding = l.pattern_ident(&t.pat);
                        if ty.is_aggregate() && binding.as_ref().is_some_and(|(_, m)| *m) {
                            l.diags.push(
                                Diagnostic::new(
                                    at(&t.pat),
                                    "struct and array parameters cannot be `mut`",
                                )
                                .help("copy it into a local: `let mut copy = param;`"),
                            );
                        }
                        if let Some((ident, mutable)) = binding {
                            params.push(l.declare(
                                &ident,
                                ty,
                                mutable,
                                LocalKind::Param,
                                at(&t.pat),
                            ));
                        }
                    }
                    (syn::FnArg::Receiver(_), None) => {}
                }
            }
            FnRole::Device
        }
    };
    let body = match l.block(&f.block) {
        Some((body, var)) => {
            if let Err((found, expected)) = l.table.unify(var, l.ret) {
                let at = body.tail.map_or(span, |t| l.nodes[t.0 as usize].span);
                l.diags.push(
                    Diagnostic::new(
                        at,
                        format!("`{name}` returns `{expected}` but its body gives `{found}`"),
                    )
                    .help("make the last expression of the body the result, or `return` it"),
                );
            }
            body
        }
        None => Block::default(),
    };
    l.finish(name, role, params, ret_ty, body, span)
}

impl Lowerer<'_> {
    /// A type written in the source (`Self` in a method is its struct or enum).
    fn written_type(&mut self, ty: &syn::Type) -> Option<Ty> {
        let ty = value_type(ty, self.enums, self.diags)?;
        Some(super::types::resolve_self(ty, self.self_ty.as_ref()))
    }

    fn error(&mut self, span: Span, message: impl Into<String>, help: impl Into<String>) {
        self.diags.push(Diagnostic::new(span, message).help(help));
    }

    fn declare(
        &mut self,
        name: &str,
        ty: Ty,
        mutable: bool,
        kind: LocalKind,
        span: Span,
    ) -> LocalId {
        let var = self.table.known(&ty);
        self.declare_var(name, var, mutable, kind, span)
    }

    fn declare_var(
        &mut self,
        name: &str,
        var: Var,
        mutable: bool,
        kind: LocalKind,
        span: Span,
    ) -> LocalId {
        let id = LocalId(self.locals.len() as u32);
        self.locals.push((Local { name: name.to_owned(), ty: Ty::Unit, mutable, kind, span }, var));
        if let Some(scope) = self.scopes.last_mut() {
            scope.insert(name.to_owned(), id);
        }
        id
    }

    fn lookup(&self, name: &str) -> Option<LocalId> {
        self.scopes.iter().rev().find_map(|s| s.get(name).copied())
    }

    fn pattern_ident(&mut self, pat: &syn::Pat) -> Option<(String, bool)> {
        match pat {
            syn::Pat::Ident(p) if p.by_ref.is_none() && p.subpat.is_none() => {
                Some((p.ident.to_string(), p.mutability.is_some()))
            }
            syn::Pat::Wild(_) => Some(("_".into(), false)),
            _ => {
                self.error(
                    at(pat),
                    "only simple bindings are supported",
                    "bind a name, e.g. `let x = ...`, or a tuple of names, `let (a, b) = (x, y);`",
                );
                None
            }
        }
    }

    fn handler_params(&mut self, f: &syn::ItemFn) -> Option<FnRole> {
        let inputs: Vec<&syn::PatType> = f
            .sig
            .inputs
            .iter()
            .filter_map(|a| match a {
                syn::FnArg::Typed(t) => Some(t),
                syn::FnArg::Receiver(_) => None,
            })
            .collect();
        let shape_help =
            "write `fn name(ctx: &mut RingContext, [state: &mut State,] msg: Message) -> Response`";
        let is_ctx = |ty: &syn::Type| matches!(ty, syn::Type::Reference(r) if r.mutability.is_some() && matches!(&*r.elem, syn::Type::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "RingContext")));
        if inputs.len() < 2 || inputs.len() > 3 || !is_ctx(&inputs[0].ty) {
            self.error(at(&f.sig.inputs), "a handler takes `ctx: &mut RingContext`, an optional `&mut` state and the message, in that order", shape_help);
            return None;
        }
        self.ctx = self.pattern_ident(&inputs[0].pat).map(|(n, _)| n);
        let mut state = None;
        if inputs.len() == 3 {
            let st = inputs[1];
            match &*st.ty {
                syn::Type::Reference(r) if r.mutability.is_some() => {
                    let ty = self.written_type(&r.elem).unwrap_or(Ty::Unit);
                    if !matches!(ty, Ty::Struct(_)) {
                        self.error(
                            at(&r.elem),
                            "the state must be a #[derive(RingMessage)] struct",
                            shape_help,
                        );
                    }
                    if let Some((name, _)) = self.pattern_ident(&st.pat) {
                        state = Some(self.declare(&name, ty, true, LocalKind::State, at(&st.pat)));
                    }
                }
                _ => self.error(at(&st.ty), "the state parameter must be `&mut State`", shape_help),
            }
        }
        let msg = inputs[inputs.len() - 1];
        if matches!(&*msg.ty, syn::Type::Reference(_)) {
            self.error(at(&msg.ty), "the message is taken by value", shape_help);
        }
        let ty = self.written_type(&msg.ty).unwrap_or(Ty::Unit);
        if matches!(ty, Ty::Tuple(_)) {
            self.error(
                at(&msg.ty),
                "a tuple cannot be a message or a message field: Rust does not fix its layout",
                "use a #[derive(RingMessage)] #[repr(C)] struct with named fields",
            );
        }
        let (name, _) = self.pattern_ident(&msg.pat)?;
        let message = self.declare(&name, ty, false, LocalKind::Message, at(&msg.pat));
        Some(FnRole::Handler { state, message })
    }

    fn node(&mut self, kind: ExprKind, var: Var, span: Span) -> (ExprId, Var) {
        self.nodes.push(Pending { kind, var, span, literal: None });
        (ExprId(self.nodes.len() as u32 - 1), var)
    }

    fn unify_or_report(&mut self, a: Var, b: Var, span: Span, what: &str) {
        if let Err((x, y)) = self.table.unify(a, b) {
            self.error(
                span,
                format!("mismatched types {what}: `{x}` and `{y}`"),
                "make both sides the same type, with `as` where a conversion is meant",
            );
        }
    }

    // ----- blocks and statements -----

    fn block(&mut self, b: &syn::Block) -> Option<(Block, Var)> {
        self.scopes.push(HashMap::new());
        let mut out = Block::default();
        let mut diverges = false;
        // A tail that failed to lower was reported; its block then fits any context so
        // that one mistake gives one error.
        let mut poisoned = false;
        let count = b.stmts.len();
        for stmt in &b.stmts {
            if let syn::Stmt::Item(syn::Item::Const(c)) = stmt {
                self.body_consts.insert(c.ident.to_string(), c.clone());
            }
        }
        for (i, stmt) in b.stmts.iter().enumerate() {
            let last = i + 1 == count;
            match stmt {
                syn::Stmt::Local(local) => self.let_stmt(local, &mut out),
                // Registered before the statements (below): a const may be used above it.
                syn::Stmt::Item(syn::Item::Const(_)) => {}
                syn::Stmt::Item(item) => self.error(
                    at(item),
                    "items other than `const` cannot be declared inside a kernel",
                    "move it to module level; helpers are `#[device] fn`",
                ),
                syn::Stmt::Macro(m) => {
                    self.macro_error(at(m), m.mac.path.segments.last().map(|s| s.ident.to_string()))
                }
                // A `loop` that ends the block gives the block its value (`break value`).
                syn::Stmt::Expr(e @ syn::Expr::Loop(_), None) if last => {
                    out.tail = self.expr(e).map(|(id, _)| id);
                    poisoned = out.tail.is_none();
                }
                syn::Stmt::Expr(e, semi) => {
                    if let Some(diverging) = self.statement(e, &mut out) {
                        diverges |= diverging;
                    } else if last && semi.is_none() {
                        out.tail = self.expr(e).map(|(id, _)| id);
                        poisoned = out.tail.is_none();
                    } else if let Some((id, var)) = self.expr(e) {
                        if semi.is_none() {
                            let unit = self.table.known(&Ty::Unit);
                            self.unify_or_report(
                                var,
                                unit,
                                at(e),
                                "for a statement without `;` (expected `()`)",
                            );
                        }
                        out.stmts.push(Stmt::Expr(id));
                    }
                }
            }
        }
        self.scopes.pop();
        let var = match out.tail {
            Some(tail) => self.nodes[tail.0 as usize].var,
            None if diverges || poisoned => self.table.never(),
            None => self.table.known(&Ty::Unit),
        };
        Some((out, var))
    }

    fn macro_error(&mut self, span: Span, name: Option<String>) {
        let name = name.unwrap_or_default();
        self.error(span, format!("macros like `{name}!` are not supported in kernels"), "kernels run on the GPU: no printing, formatting or panicking; record results in the state or response");
    }

    fn let_stmt(&mut self, local: &syn::Local, out: &mut Block) {
        let span = at(&local.pat);
        let (pat, annotation) = match &local.pat {
            syn::Pat::Type(t) => (&*t.pat, Some(&*t.ty)),
            other => (other, None),
        };
        if local.init.as_ref().is_some_and(|i| i.diverge.is_some()) {
            self.error(span, "`let ... else` is not supported", "use `if`/`else`");
            return;
        }
        if let syn::Pat::Tuple(tuple) = pat {
            let init = local.init.as_ref().map(|i| &*i.expr);
            self.let_tuple(tuple, annotation, init, out);
            return;
        }
        if let syn::Pat::Slice(elements) = pat {
            let init = local.init.as_ref().map(|i| &*i.expr);
            self.let_array(elements, annotation, init, out);
            return;
        }
        let var = self.table.unknown();
        if let Some(ty) = annotation {
            if let Some(ty) = self.written_type(ty) {
                let known = self.table.known(&ty);
                let _ = self.table.unify(var, known);
            }
        }
        let init = local.init.as_ref().and_then(|init| match self.expr(&init.expr) {
            Some((id, init_var)) => {
                self.unify_or_report(var, init_var, at(&init.expr), "in `let`");
                Some(id)
            }
            None => {
                // Reported already: let the binding take whatever type its uses want.
                let anything = self.table.never();
                let _ = self.table.unify(var, anything);
                None
            }
        });
        if let Some((name, mutable)) = self.pattern_ident(pat) {
            let id = self.declare_var(&name, var, mutable, LocalKind::Var, span);
            out.stmts.push(Stmt::Let(id, init, span));
        }
    }

    /// Lowers expressions that are statements in the IR; `Some(diverges)` when it was one.
    fn statement(&mut self, e: &syn::Expr, out: &mut Block) -> Option<bool> {
        let span = at(e);
        match e {
            syn::Expr::Assign(a) => {
                let lowered = self.place(&a.left).zip(self.expr(&a.right));
                if let Some(((place, pvar), (value, vvar))) = lowered {
                    self.unify_or_report(pvar, vvar, span, "in assignment");
                    out.stmts.push(Stmt::Assign(place, None, value, span));
                }
                Some(false)
            }
            syn::Expr::Binary(b) if compound_op(&b.op).is_some() => {
                let op = compound_op(&b.op)?;
                let lowered = self.place(&b.left).zip(self.expr(&b.right));
                if let Some(((place, pvar), (value, vvar))) = lowered {
                    if matches!(op, BinaryOp::Shl | BinaryOp::Shr) {
                        let int = self.table.int();
                        self.unify_or_report(vvar, int, at(&b.right), "for a shift amount");
                    } else {
                        self.unify_or_report(pvar, vvar, span, "in compound assignment");
                    }
                    out.stmts.push(Stmt::Assign(place, Some(op), value, span));
                }
                Some(false)
            }
            syn::Expr::While(w) => {
                let cond = self.condition(&w.cond);
                self.loops.push((label_name(&w.label), false, None));
                let body = self.unit_block(&w.body);
                self.loops.pop();
                if let (Some(cond), Some(body)) = (cond, body) {
                    out.stmts.push(Stmt::While(cond, body));
                }
                Some(false)
            }
            syn::Expr::Loop(l) => {
                self.loops.push((label_name(&l.label), false, None));
                let body = self.unit_block(&l.body);
                let has_break = self.loops.pop().is_some_and(|(_, has_break, _)| has_break);
                if let Some(body) = body {
                    out.stmts.push(Stmt::Loop(body));
                }
                Some(!has_break)
            }
            syn::Expr::ForLoop(f) => {
                self.for_loop(f, out);
                Some(false)
            }
            syn::Expr::Return(r) => {
                let value = match &r.expr {
                    Some(v) => self.expr(v).map(|(id, var)| {
                        self.unify_or_report(
                            var,
                            self.ret,
                            at(v),
                            "between the returned value and the function's result",
                        );
                        Some(id)
                    }),
                    None => {
                        let unit = self.table.known(&Ty::Unit);
                        self.unify_or_report(
                            unit,
                            self.ret,
                            span,
                            "between `return` and the function's result",
                        );
                        Some(None)
                    }
                };
                if let Some(value) = value {
                    out.stmts.push(Stmt::Return(value, span));
                }
                Some(true)
            }
            syn::Expr::Break(b) => {
                let Some(depth) = self.loop_depth(b.label.as_ref(), span, "break") else {
                    return Some(true);
                };
                let index = self.loops.len() - 1 - depth as usize;
                let result = self.loops[index].2;
                match (&b.expr, result) {
                    (Some(value), Some((local, var))) => {
                        let Some((value, vvar)) = self.expr(value) else { return Some(true) };
                        self.unify_or_report(var, vvar, span, "between the loop's `break` values");
                        out.stmts.push(Stmt::Assign(Place::Local(local), None, value, span));
                    }
                    (Some(_), None) => {
                        self.error(
                            span,
                            "`break` with a value only leaves a `loop` whose value is used",
                            "write `let x = loop { .. break value; };`; `while` and `for` have no value",
                        );
                        // Not counted as leaving the loop: no follow-up error about its type.
                        return Some(true);
                    }
                    (None, Some((_, var))) => {
                        let unit = self.table.known(&Ty::Unit);
                        self.unify_or_report(var, unit, span, "between the loop's `break` values");
                    }
                    (None, None) => {}
                }
                self.loops[index].1 = true;
                out.stmts.push(Stmt::Break(depth, span));
                Some(true)
            }
            syn::Expr::Continue(c) => {
                if let Some(depth) = self.loop_depth(c.label.as_ref(), span, "continue") {
                    out.stmts.push(Stmt::Continue(depth, span));
                }
                Some(true)
            }
            _ => None,
        }
    }

    /// How many loops around the one `label` names (the innermost without a label) a
    /// `break` / `continue` leaves too; reports a missing loop or an unknown label.
    fn loop_depth(&mut self, label: Option<&syn::Lifetime>, span: Span, what: &str) -> Option<u32> {
        let Some(label) = label else {
            if self.loops.is_empty() {
                let help = if what == "break" {
                    "use `return` to leave the function"
                } else {
                    "remove it"
                };
                self.error(span, format!("`{what}` outside of a loop"), help);
                return None;
            }
            return Some(0);
        };
        let name = label.ident.to_string();
        match self.loops.iter().rev().position(|(l, _, _)| l.as_deref() == Some(name.as_str())) {
            Some(depth) => Some(depth as u32),
            None => {
                self.error(
                    span,
                    format!("no enclosing loop is labelled `'{name}`"),
                    "label the loop: `'name: loop { ... }`",
                );
                None
            }
        }
    }

    fn unit_block(&mut self, b: &syn::Block) -> Option<Block> {
        let (block, var) = self.block(b)?;
        let unit = self.table.known(&Ty::Unit);
        self.unify_or_report(var, unit, at(b), "for a loop body (expected `()`)");
        Some(block)
    }

    fn condition(&mut self, cond: &syn::Expr) -> Option<ExprId> {
        if let syn::Expr::Let(_) = cond {
            self.error(
                at(cond),
                "`if let` / `while let` are not supported",
                "compare values with `==` instead",
            );
            return None;
        }
        let (id, var) = self.expr(cond)?;
        let boolean = self.table.scalar(Scalar::Bool);
        self.unify_or_report(var, boolean, at(cond), "in a condition (expected `bool`)");
        Some(id)
    }

    fn for_loop(&mut self, f: &syn::ExprForLoop, out: &mut Block) {
        let syn::Expr::Range(range) = &*f.expr else {
            self.for_each_element(f, out);
            return;
        };
        let (Some(start), Some(end)) = (&range.start, &range.end) else {
            self.error(
                at(&f.expr),
                "the range needs a start and an end",
                "write `for i in start..end`",
            );
            return;
        };
        let inclusive = matches!(range.limits, syn::RangeLimits::Closed(_));
        let (Some((start, svar)), Some((end, evar))) = (self.expr(start), self.expr(end)) else {
            return;
        };
        self.unify_or_report(svar, evar, at(&f.expr), "between the range bounds");
        let int = self.table.int();
        self.unify_or_report(svar, int, at(&f.expr), "in a range (expected an integer)");
        self.scopes.push(HashMap::new());
        let var = self
            .pattern_ident(&f.pat)
            .map(|(name, _)| self.declare_var(&name, svar, false, LocalKind::Var, at(&f.pat)));
        self.loops.push((label_name(&f.label), false, None));
        let body = self.unit_block(&f.body);
        self.loops.pop();
        self.scopes.pop();
        if let (Some(var), Some(body)) = (var, body) {
            out.stmts.push(Stmt::For { var, start, end, inclusive, body });
        }
    }

    /// `for x in array`: a loop over the indices, with `let x = array[i];` first in the body
    /// (the index is always in bounds).
    fn for_each_element(&mut self, f: &syn::ExprForLoop, out: &mut Block) {
        let span = at(&f.expr);
        let Some((array, avar)) = self.expr(&f.expr) else { return };
        let (elem, n) = match self.table.shallow(avar) {
            Some(Ty::Array(elem, n)) => (elem, n),
            _ => {
                let found = self.table.describe(avar);
                self.error(
                    span,
                    format!("`for` loops iterate over ranges and arrays, not `{found}`"),
                    "write `for i in start..end`, or iterate over a fixed-size array",
                );
                return;
            }
        };
        let usize_var = self.table.scalar(Scalar::Usize);
        let start = self.node(ExprKind::Const(Const::Int(0)), usize_var, span).0;
        let end = self.node(ExprKind::Const(Const::Int(u64::from(n))), usize_var, span).0;
        self.scopes.push(HashMap::new());
        let index = self.declare_var("(array index)", usize_var, false, LocalKind::Var, span);
        let binding = self.pattern_ident(&f.pat);
        let elem_var = self.table.known(&elem);
        let element = binding.map(|(name, mutable)| {
            self.declare_var(&name, elem_var, mutable, LocalKind::Var, at(&f.pat))
        });
        let index_node = self.node(ExprKind::Local(index), usize_var, span).0;
        let value = self.node(ExprKind::Index(array, index_node), elem_var, span).0;
        self.loops.push((label_name(&f.label), false, None));
        let body = self.unit_block(&f.body);
        self.loops.pop();
        self.scopes.pop();
        if let (Some(element), Some(mut body)) = (element, body) {
            body.stmts.insert(0, Stmt::Let(element, Some(value), span));
            out.stmts.push(Stmt::For { var: index, start, end, inclusive: false, body });
        }
    }

    fn place(&mut self, e: &syn::Expr) -> Option<(Place, Var)> {
        match e {
            syn::Expr::Path(p) => {
                let name = p.path.get_ident()?.to_string();
                match self.lookup(&name) {
                    Some(id) => Some((Place::Local(id), self.locals[id.0 as usize].1)),
                    None => {
                        self.error(
                            at(e),
                            format!("cannot find `{name}`"),
                            "declare it with `let mut` first",
                        );
                        None
                    }
                }
            }
            syn::Expr::Paren(p) => self.place(&p.expr),
            syn::Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => self.place(&u.expr),
            syn::Expr::Field(f) => {
                let (base, bvar) = self.place(&f.base)?;
                let (index, var) = self.field_of(bvar, &f.member, at(e))?;
                Some((Place::Field(Box::new(base), index), var))
            }
            syn::Expr::Index(i) => {
                let (base, bvar) = self.place(&i.expr)?;
                let (index, ivar) = self.expr(&i.index)?;
                let elem = self.index_of(bvar, ivar, at(e))?;
                Some((Place::Index(Box::new(base), index), elem))
            }
            _ => {
                self.error(
                    at(e),
                    "cannot assign to this expression",
                    "assign to a `let mut` variable, a state field or an array element",
                );
                None
            }
        }
    }

    fn field_of(&mut self, base: Var, member: &syn::Member, span: Span) -> Option<(u32, Var)> {
        let ident = match member {
            syn::Member::Named(ident) => ident,
            syn::Member::Unnamed(index) => {
                let i = index.index;
                return match self.table.tuple_parts(base) {
                    Some(parts) if (i as usize) < parts.len() => Some((i, parts[i as usize])),
                    _ => {
                        let found = self.table.describe(base);
                        self.error(
                            span,
                            format!("no field `{i}` on a value of type `{found}`"),
                            "`.0`, `.1`, .. are a tuple's parts (annotate the variable's type if it is one)",
                        );
                        None
                    }
                };
            }
        };
        let name = ident.to_string();
        let Some(Ty::Struct(sname)) = self.table.shallow(base) else {
            let found = self.table.describe(base);
            self.error(span, format!("no field `{name}` on a value of type `{found}`"), "fields exist on #[derive(RingMessage)] structs; annotate the variable's type if it is one");
            return None;
        };
        let layout = self.structs.get(&sname)?;
        match layout.fields.iter().position(|f| f.name == name) {
            Some(index) => {
                let ty = Ty::from(&layout.fields[index].ty);
                Some((index as u32, self.table.known(&ty)))
            }
            None => {
                let valid: Vec<String> =
                    layout.fields.iter().map(|f| format!("`{}`", f.name)).collect();
                self.error(
                    span,
                    format!("struct `{sname}` has no field `{name}`"),
                    format!("its fields are {}", valid.join(", ")),
                );
                None
            }
        }
    }

    fn index_of(&mut self, base: Var, index: Var, span: Span) -> Option<Var> {
        let usize_ = self.table.scalar(Scalar::Usize);
        self.unify_or_report(index, usize_, span, "for an array index (expected `usize`)");
        match self.table.array_parts(base) {
            Some((elem, _)) => Some(elem),
            None => {
                let found = self.table.describe(base);
                self.error(
                    span,
                    format!("cannot index a value of type `{found}`"),
                    "only fixed arrays `[T; N]` can be indexed",
                );
                None
            }
        }
    }
}

/// A loop's label, without its quote.
fn label_name(label: &Option<syn::Label>) -> Option<String> {
    label.as_ref().map(|l| l.name.ident.to_string())
}

pub(super) fn compound_op(op: &syn::BinOp) -> Option<BinaryOp> {
    use syn::BinOp as B;
    Some(match op {
        B::AddAssign(_) => BinaryOp::Add,
        B::SubAssign(_) => BinaryOp::Sub,
        B::MulAssign(_) => BinaryOp::Mul,
        B::DivAssign(_) => BinaryOp::Div,
        B::RemAssign(_) => BinaryOp::Rem,
        B::BitAndAssign(_) => BinaryOp::BitAnd,
        B::BitOrAssign(_) => BinaryOp::BitOr,
        B::BitXorAssign(_) => BinaryOp::BitXor,
        B::ShlAssign(_) => BinaryOp::Shl,
        B::ShrAssign(_) => BinaryOp::Shr,
        _ => return None,
    })
}

mod enums;
mod exprs;
mod library;
mod matches;
mod methods;
mod signatures;
mod tuples;

use signatures::{DeviceSig, device_signatures, method_key, signature};
