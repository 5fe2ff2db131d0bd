//! Constructs outside the DSL, found from syntax alone: what the proc macros can report at
//! macro time, with spans, before build.rs's full check (which also knows the types).

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::visit::Visit;

use super::with_help;

/// Every construct of `block` the DSL does not support, as (span, message with help).
pub fn unsupported_constructs(block: &syn::Block) -> Vec<(Span, String)> {
    let mut finder = Finder { found: Vec::new() };
    finder.visit_block(block);
    finder.found
}

struct Finder {
    found: Vec<(Span, String)>,
}

/// `checked_*` methods return an `Option`, which kernels do not have: the error and what to
/// call instead (shared by the macros and the build-time front end).
pub fn checked_method(method: &str) -> Option<(String, String)> {
    let op = method.strip_prefix("checked_")?;
    let instead = if matches!(op, "add" | "sub" | "mul") {
        format!(
            "`overflowing_{op}` (the value and whether it overflowed), `wrapping_{op}` or `saturating_{op}`"
        )
    } else {
        format!("`wrapping_{op}`, or test the operands first")
    };
    Some((
        format!("`{method}` returns an `Option`, which kernels do not have"),
        format!("use {instead}"),
    ))
}

impl Finder {
    fn report(&mut self, node: &dyn Spanned, message: &str, help: &str) {
        self.found.push((node.span(), with_help(message.into(), help)));
    }

    /// A value's type: a DSL type or a tuple of them.
    fn check_type(&mut self, ty: &syn::Type) {
        if let Err(problem) = super::types::check_value_type(ty) {
            self.found.push((problem.span, with_help(problem.message, problem.help)));
        }
    }
}

impl<'ast> Visit<'ast> for Finder {
    fn visit_expr(&mut self, e: &'ast syn::Expr) {
        match e {
            syn::Expr::Closure(_) => self.report(e, "closures are not supported in kernels", "write a `#[device] fn` and call it"),
            syn::Expr::Await(_) => self.report(e, "`.await` is not supported in kernel bodies", "handlers may be `async fn`, but their bodies run to completion on the GPU: remove `.await`"),
            syn::Expr::Macro(m) => {
                let name = m.mac.path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default();
                self.report(e, &format!("macros like `{name}!` are not supported in kernels"), "kernels run on the GPU: no printing, formatting or panicking; record results in the state or response");
            }
            syn::Expr::Reference(_) => self.report(e, "references are not supported in kernels", "pass and copy values; only the handler's state is a reference"),
            syn::Expr::Unsafe(_) => self.report(e, "`unsafe` blocks are not allowed in kernels", "kernels are safe Rust; remove `unsafe`"),
            syn::Expr::Try(_) => self.report(e, "`?` is not supported in kernels", "kernels cannot fail; return a status field instead"),
            syn::Expr::Async(_) => self.report(e, "`async` blocks are not supported in kernels", "remove `async`"),
            syn::Expr::Range(_) => self.report(e, "ranges are only supported in `for` loops", "write `for i in a..b`"),
            syn::Expr::Let(_) => self.report(e, "`if let` / `while let` are not supported", "compare values with `==` instead"),
            syn::Expr::ForLoop(f) => {
                // The range of a `for` is allowed: visit its bounds, not the range itself.
                if let syn::Expr::Range(r) = &*f.expr {
                    if let Some(start) = &r.start {
                        self.visit_expr(start);
                    }
                    if let Some(end) = &r.end {
                        self.visit_expr(end);
                    }
                } else {
                    // An array (checked when lowered, where its type is known).
                    self.visit_expr(&f.expr);
                }
                self.visit_block(&f.body);
                return;
            }
            syn::Expr::MethodCall(call) => {
                if let Some((message, help)) = checked_method(&call.method.to_string()) {
                    self.report(&call.method, &message, &help);
                }
            }
            syn::Expr::Call(call) => {
                if let syn::Expr::Path(path) = &*call.func {
                    let text: Vec<String> = path.path.segments.iter().map(|s| s.ident.to_string()).collect();
                    let from_bits = matches!(text.as_slice(), [ty, f] if ((ty == "f32" || ty == "f64") && f == "from_bits") || f == "from_be" || f == "from_le");
                    if path.path.segments.len() > 1 && !from_bits {
                        self.report(&call.func, &format!("`{}` cannot be called in a kernel", text.join("::")), "only `#[device]` functions (called by name) run on the GPU; heap types and library calls do not");
                    }
                }
            }
            _ => {}
        }
        syn::visit::visit_expr(self, e);
    }

    fn visit_stmt(&mut self, s: &'ast syn::Stmt) {
        match s {
            // `const` items are lowered where they are used.
            syn::Stmt::Item(syn::Item::Const(_)) => {}
            syn::Stmt::Item(item) => self.report(
                item,
                "items other than `const` cannot be declared inside a kernel",
                "move it to module level; helpers are `#[device] fn`",
            ),
            syn::Stmt::Macro(m) => {
                let name =
                    m.mac.path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default();
                self.report(s, &format!("macros like `{name}!` are not supported in kernels"), "kernels run on the GPU: no printing, formatting or panicking; record results in the state or response");
            }
            syn::Stmt::Local(local) => {
                if let syn::Pat::Type(typed) = &local.pat {
                    self.check_type(&typed.ty);
                }
                syn::visit::visit_stmt(self, s);
            }
            _ => syn::visit::visit_stmt(self, s),
        }
    }
}
