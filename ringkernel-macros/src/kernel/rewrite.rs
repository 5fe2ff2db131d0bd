//! Rewrites a handler body so that, natively, it has the DSL's semantics (those of the GPU):
//! integer arithmetic wraps, `/` and `%` by zero give 0 and record an error, shifts take their
//! amount modulo the width, an out-of-bounds index reads 0 or drops the write and records an
//! error, integer `abs` wraps, and every loop iteration spends the handler's budget.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::visit_mut::VisitMut;

/// An operand that becomes a call argument loses its parentheses (rustc would warn about
/// them at the user's span).
fn unparen(e: &syn::Expr) -> &syn::Expr {
    match e {
        syn::Expr::Paren(p) => unparen(&p.expr),
        other => other,
    }
}

fn private() -> TokenStream {
    quote!(::ringkernel::__private)
}

/// `fast_math`: the handler's `exp ln sin cos` may differ from the GPU's in the last bits.
pub(crate) fn rewrite_body(block: &mut syn::Block, fast_math: bool) {
    Native { slots: 0, fast_math }.visit_block_mut(block);
}

struct Native {
    slots: u32,
    fast_math: bool,
}

enum Op {
    Arith(&'static str),
    Shift(&'static str),
}

fn compound(op: &syn::BinOp) -> Option<Op> {
    use syn::BinOp as B;
    Some(match op {
        B::AddAssign(_) => Op::Arith("dsl_add"),
        B::SubAssign(_) => Op::Arith("dsl_sub"),
        B::MulAssign(_) => Op::Arith("dsl_mul"),
        B::DivAssign(_) => Op::Arith("dsl_div"),
        B::RemAssign(_) => Op::Arith("dsl_rem"),
        B::ShlAssign(_) => Op::Shift("dsl_shl"),
        B::ShrAssign(_) => Op::Shift("dsl_shr"),
        _ => return None,
    })
}

fn apply(op: &Op, left: TokenStream, right: TokenStream) -> TokenStream {
    let p = private();
    match op {
        Op::Arith(name) => {
            let f = format_ident!("{name}");
            quote!(#p::DslArith::#f(#left, #right))
        }
        Op::Shift(name) => {
            let f = format_ident!("{name}");
            quote!(#p::DslShift::#f(#left, #p::ShiftAmount::amount(#right)))
        }
    }
}

fn bitwise_compound(op: &syn::BinOp) -> Option<TokenStream> {
    use syn::BinOp as B;
    Some(match op {
        B::BitAndAssign(_) => quote!(&),
        B::BitOrAssign(_) => quote!(|),
        B::BitXorAssign(_) => quote!(^),
        _ => return None,
    })
}

impl Native {
    /// `place = value` where the place may go through indices: the value first, then every
    /// index checked once; an out-of-bounds step drops the write.
    fn assign(
        &mut self,
        place: &mut syn::Expr,
        combine: impl FnOnce(TokenStream) -> TokenStream,
    ) -> TokenStream {
        self.place_chain(
            place,
            Box::new(|target| {
                let value = combine(target.clone());
                quote!(#target = #value;)
            }),
        )
    }

    fn place_chain(
        &mut self,
        place: &mut syn::Expr,
        then: Box<dyn FnOnce(TokenStream) -> TokenStream + '_>,
    ) -> TokenStream {
        match place {
            syn::Expr::Index(index) => {
                self.visit_expr_mut(&mut index.index);
                let idx = unparen(&index.index);
                let slot = format_ident!("__rk_slot{}", self.slots);
                self.slots += 1;
                let p = private();
                let idx_tokens = quote!(#idx);
                let slot_tokens = quote!((*#slot));
                let inner = then(slot_tokens);
                self.place_chain(&mut index.expr, Box::new(move |base| {
                    quote! {
                        if let ::core::option::Option::Some(#slot) = #p::dsl_index_mut(&mut #base, #idx_tokens) {
                            #inner
                        }
                    }
                }))
            }
            syn::Expr::Field(field) => {
                let member = field.member.clone();
                self.place_chain(&mut field.base, Box::new(move |base| then(quote!(#base.#member))))
            }
            syn::Expr::Paren(paren) => self.place_chain(&mut paren.expr, then),
            other => then(quote!(#other)),
        }
    }
}

impl VisitMut for Native {
    fn visit_expr_mut(&mut self, e: &mut syn::Expr) {
        // Assignments first: their left side is a place, not a value.
        if let syn::Expr::Assign(assign) = e {
            self.visit_expr_mut(&mut assign.right);
            let right = &assign.right;
            let value = quote!(__rk_value);
            let body = self.assign(&mut assign.left, |_| value.clone());
            *e = syn::parse_quote!({ let __rk_value = #right; #body });
            return;
        }
        if let syn::Expr::Binary(binary) = e {
            if let Some(op) = compound(&binary.op) {
                self.visit_expr_mut(&mut binary.right);
                let right = &binary.right;
                let body =
                    self.assign(&mut binary.left, |target| apply(&op, target, quote!(__rk_value)));
                *e = syn::parse_quote!({ let __rk_value = #right; #body });
                return;
            }
            if let Some(symbol) = bitwise_compound(&binary.op) {
                self.visit_expr_mut(&mut binary.right);
                let right = &binary.right;
                let body =
                    self.assign(&mut binary.left, |target| quote!(#target #symbol __rk_value));
                *e = syn::parse_quote!({ let __rk_value = #right; #body });
                return;
            }
        }
        syn::visit_mut::visit_expr_mut(self, e);
        let p = private();
        // Every loop iteration spends one unit of the handler's budget, counted where the PTX
        // counts it: on entering the body.
        let step: syn::Stmt = syn::parse_quote!(#p::dsl_step(););
        match e {
            syn::Expr::While(w) => w.body.stmts.insert(0, step),
            syn::Expr::Loop(l) => l.body.stmts.insert(0, step),
            syn::Expr::ForLoop(f) => f.body.stmts.insert(0, step),
            _ => {}
        }
        match e {
            syn::Expr::Binary(binary) => {
                use syn::BinOp as B;
                let op = match binary.op {
                    B::Add(_) => Op::Arith("dsl_add"),
                    B::Sub(_) => Op::Arith("dsl_sub"),
                    B::Mul(_) => Op::Arith("dsl_mul"),
                    B::Div(_) => Op::Arith("dsl_div"),
                    B::Rem(_) => Op::Arith("dsl_rem"),
                    B::Shl(_) => Op::Shift("dsl_shl"),
                    B::Shr(_) => Op::Shift("dsl_shr"),
                    _ => return,
                };
                let (left, right) = (unparen(&binary.left), unparen(&binary.right));
                let tokens = apply(&op, quote!(#left), quote!(#right));
                *e = syn::parse_quote!(#tokens);
            }
            // `-128i8` must stay a literal (128i8 alone is out of range).
            syn::Expr::Unary(unary)
                if matches!(unary.op, syn::UnOp::Neg(_))
                    && !matches!(&*unary.expr, syn::Expr::Lit(_)) =>
            {
                let inner = unparen(&unary.expr);
                *e = syn::parse_quote!(#p::DslArith::dsl_neg(#inner));
            }
            syn::Expr::Index(index) => {
                let (base, idx) = (&index.expr, unparen(&index.index));
                *e = syn::parse_quote!(#p::dsl_index(&#base, #idx));
            }
            syn::Expr::MethodCall(call)
                if ringkernel_codegen::math::METHODS
                    .contains(&(call.method.to_string().as_str(), call.args.len())) =>
            {
                let receiver = unparen(&call.receiver);
                let args = &call.args;
                let name = call.method.to_string();
                let fast = self.fast_math
                    && ringkernel_codegen::math::APPROXIMATE_METHODS.contains(&name.as_str());
                let method = if fast {
                    format_ident!("fast_{}", name, span = call.method.span())
                } else {
                    call.method.clone()
                };
                *e = syn::parse_quote!(#p::Transcendental::#method(#receiver, #args));
            }
            syn::Expr::MethodCall(call) if call.method == "sin_cos" && call.args.is_empty() => {
                let receiver = unparen(&call.receiver);
                *e = syn::parse_quote!(#p::Transcendental::sin_cos(#receiver));
            }
            syn::Expr::MethodCall(call) if call.method == "abs" && call.args.is_empty() => {
                let receiver = unparen(&call.receiver);
                *e = syn::parse_quote!(#p::DslAbs::dsl_abs(#receiver));
            }
            syn::Expr::MethodCall(call)
                if call.args.len() == 1
                    && matches!(
                        call.method.to_string().as_str(),
                        "div_euclid" | "rem_euclid" | "wrapping_div_euclid" | "wrapping_rem_euclid"
                    ) =>
            {
                let (receiver, divisor) = (unparen(&call.receiver), &call.args[0]);
                *e = if call.method.to_string().contains("div") {
                    syn::parse_quote!(#p::DslEuclid::dsl_div_euclid(#receiver, #divisor))
                } else {
                    syn::parse_quote!(#p::DslEuclid::dsl_rem_euclid(#receiver, #divisor))
                };
            }
            // Rust's `next_power_of_two` panics on overflow in debug builds; the DSL gives 0
            // (its release result) everywhere.
            syn::Expr::MethodCall(call)
                if call.method == "next_power_of_two" && call.args.is_empty() =>
            {
                // The receiver as written: `(x as u32)` keeps its parentheses.
                let receiver = &call.receiver;
                *e = syn::parse_quote!(#receiver.checked_next_power_of_two().unwrap_or(0));
            }
            // Rust's signed `isqrt` panics on a negative value; the DSL's gives 0 (recorded).
            syn::Expr::MethodCall(call) if call.method == "isqrt" && call.args.is_empty() => {
                let receiver = unparen(&call.receiver);
                *e = syn::parse_quote!(#p::DslIsqrt::dsl_isqrt(#receiver));
            }
            syn::Expr::MethodCall(call) if call.method == "clamp" && call.args.len() == 2 => {
                let (receiver, lo, hi) = (unparen(&call.receiver), &call.args[0], &call.args[1]);
                *e = syn::parse_quote!(#p::DslClamp::dsl_clamp(#receiver, #lo, #hi));
            }
            // Integers wrap in the DSL: `pow` is `wrapping_pow` (Rust's panics on overflow in
            // debug builds).
            syn::Expr::MethodCall(call) if call.method == "pow" && call.args.len() == 1 => {
                call.method = syn::Ident::new("wrapping_pow", call.method.span());
            }
            // The DSL's `/` and `%` under their method names: a zero divisor gives 0 and
            // records the error, where Rust's methods would panic.
            syn::Expr::MethodCall(call)
                if (call.method == "wrapping_div" || call.method == "wrapping_rem")
                    && call.args.len() == 1 =>
            {
                let (receiver, divisor) = (unparen(&call.receiver), &call.args[0]);
                *e = if call.method == "wrapping_div" {
                    syn::parse_quote!(#p::DslArith::dsl_div(#receiver, #divisor))
                } else {
                    syn::parse_quote!(#p::DslArith::dsl_rem(#receiver, #divisor))
                };
            }
            _ => {}
        }
    }
}
