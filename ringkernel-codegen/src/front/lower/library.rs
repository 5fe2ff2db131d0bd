//! The math library ([`crate::math`]) as device functions of the modules that call it: a
//! float's `x.sin()` becomes a call of the library's `sin_f64`, lowered from the same source
//! the native side compiles.

use std::collections::{BTreeMap, HashMap};

use syn::visit::Visit;

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::ir::*;
use crate::layout::StructLayout;

use super::super::infer::Var;
use super::super::{SourceItems, at};
use super::{DeviceSig, Lowerer, Shared, device_signatures, lower_fn};

/// How many arguments library method `method` takes, if it is one.
pub(crate) fn library_arity(method: &str) -> Option<usize> {
    crate::math::METHODS.iter().find(|(name, _)| *name == method).map(|(_, arity)| *arity)
}

/// Whether any function of the source calls a library method.
pub(super) fn uses_library(items: &SourceItems) -> bool {
    struct Finder(bool);
    impl<'ast> Visit<'ast> for Finder {
        fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
            let method = m.method.to_string();
            self.0 |= library_arity(&method).is_some() || method == "sin_cos";
            syn::visit::visit_expr_method_call(self, m);
        }
    }
    let mut finder = Finder(false);
    let methods = items.methods.iter().map(|(_, f)| f);
    for f in items.devices.iter().chain(methods).chain(items.handlers.iter().map(|(_, f)| f)) {
        finder.visit_item_fn(f);
    }
    finder.0
}

/// Lowers the whole library, its functions numbered from `base`; returns them and their
/// signatures by name. The library lowers cleanly (a test holds it to that); should it not,
/// one internal error says so instead of diagnostics pointing into a file the user never wrote.
pub(super) fn lower_library(
    base: u32,
    structs: &BTreeMap<String, StructLayout>,
    diags: &mut Diagnostics,
) -> (Vec<Function>, HashMap<String, DeviceSig>) {
    let file = match syn::parse_file(crate::math::LIBRARY_SOURCE) {
        Ok(file) => file,
        Err(e) => {
            diags.push(Diagnostic::new(
                Span::default(),
                format!("internal error: the math library does not parse: {e}"),
            ));
            return (Vec::new(), HashMap::new());
        }
    };
    let mut fns = Vec::new();
    let mut consts = HashMap::new();
    for item in file.items {
        match item {
            syn::Item::Fn(f) => fns.push(f),
            syn::Item::Const(c) => {
                consts.insert(c.ident.to_string(), c);
            }
            _ => {}
        }
    }
    let mut library_diags = Diagnostics::new();
    let no_enums = std::collections::BTreeMap::new();
    let devices = device_signatures(&fns, base, &no_enums, &mut library_diags);
    let none = HashMap::new();
    let shared =
        Shared { structs, enums: &no_enums, devices: &devices, consts: &consts, math: &none };
    let functions =
        fns.iter().map(|f| lower_fn(f, None, None, &shared, &mut library_diags)).collect();
    if let Some(first) = library_diags.items.first() {
        diags.push(Diagnostic::new(
            Span::default(),
            format!(
                "internal error: the math library does not lower (its source, line {} column {}: {})",
                first.span.line, first.span.column, first.message
            ),
        ));
    }
    (functions, devices)
}

impl Lowerer<'_> {
    /// `x.sin()`, `y.atan2(x)`, ... on a float: a call of the library's function for the
    /// receiver's type. `None` when `method` is not the library's or `fast_math` keeps it
    /// an instruction.
    pub(super) fn library_call(
        &mut self,
        m: &syn::ExprMethodCall,
        receiver: ExprId,
        rvar: Var,
        scalar: Scalar,
        span: Span,
    ) -> Option<Option<(ExprId, Var)>> {
        let method = m.method.to_string();
        let arity = library_arity(&method)?;
        if !scalar.is_float() {
            self.error(
                span,
                format!("no method `{method}` on `{}`", scalar.name()),
                format!("`{method}` is a float function: convert first, `(x as f64).{method}(..)`"),
            );
            return Some(None);
        }
        if self.fast_math
            && scalar == Scalar::F32
            && crate::math::APPROXIMATE_METHODS.contains(&method.as_str())
        {
            return None;
        }
        if m.args.len() != arity {
            self.error(
                span,
                format!("`{method}` takes {arity} argument(s), {} given", m.args.len()),
                "fix the argument count",
            );
            return Some(None);
        }
        let mut args = vec![receiver];
        for arg in &m.args {
            let Some((arg_id, var)) = self.expr(arg) else { return Some(None) };
            self.unify_or_report(var, rvar, at(arg), &format!("for the argument of `{method}`"));
            args.push(arg_id);
        }
        let name = format!("{method}_{}", scalar.name());
        Some(self.math_call(&name, args, rvar, span).map(|id| (id, rvar)))
    }

    /// A call of library function `name` (`sin_f64`) giving a value of `var`'s type.
    pub(super) fn math_call(
        &mut self,
        name: &str,
        args: Vec<ExprId>,
        var: Var,
        span: Span,
    ) -> Option<ExprId> {
        let Some(sig) = self.math.get(name) else {
            self.error(
                span,
                format!("internal error: the math library has no `{name}`"),
                "report this as a bug",
            );
            return None;
        };
        let id = sig.id;
        Some(self.node(ExprKind::Call(id, args), var, span).0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_math_library_lowers_cleanly() {
        let mut diags = Diagnostics::new();
        let (functions, signatures) = lower_library(0, &BTreeMap::new(), &mut diags);
        assert!(diags.is_empty(), "{diags}");
        for (method, _) in crate::math::METHODS {
            for ty in ["f32", "f64"] {
                let name = format!("{method}_{ty}");
                assert!(signatures.contains_key(&name), "the library has no `{name}`");
            }
        }
        let module = Module { structs: BTreeMap::new(), enums: BTreeMap::new(), functions };
        let problems = crate::check::check_module(&module);
        assert!(problems.is_empty(), "{problems:?}");
    }
}
