//! Reading types written in the source: field types, parameter types, `as` targets.

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::ir::Ty;
use crate::layout::{FieldType, Scalar, StructDef};

use super::at;

const DSL_TYPES_HELP: &str = "use a scalar (bool, i8..i64, u8..u64, isize, usize, f32, f64), a fixed array `[T; N]` or a #[derive(RingMessage)] struct";

/// A field or parameter type; `None` (with a diagnostic) when it is not a DSL type.
pub(crate) fn field_type(ty: &syn::Type, diags: &mut Diagnostics) -> Option<FieldType> {
    match ty {
        syn::Type::Path(p) if p.qself.is_none() => {
            let last = p.path.segments.last()?;
            let name = last.ident.to_string();
            if !last.arguments.is_empty() {
                diags.push(
                    Diagnostic::new(at(ty), format!("`{name}<...>` is not a DSL type: generic and heap types are not supported on the GPU"))
                        .help(DSL_TYPES_HELP),
                );
                return None;
            }
            if let Some(scalar) = Scalar::from_name(&name) {
                return Some(FieldType::Scalar(scalar));
            }
            if matches!(
                name.as_str(),
                "String"
                    | "Vec"
                    | "Box"
                    | "str"
                    | "char"
                    | "HashMap"
                    | "Option"
                    | "Rc"
                    | "Arc"
                    | "i128"
                    | "u128"
            ) {
                diags.push(
                    Diagnostic::new(at(ty), format!("`{name}` is not a DSL type"))
                        .help(DSL_TYPES_HELP),
                );
                return None;
            }
            Some(FieldType::Struct(name))
        }
        syn::Type::Array(a) => {
            let elem = field_type(&a.elem, diags)?;
            let len = match &a.len {
                syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Int(n), .. }) => {
                    n.base10_parse::<u32>().ok()
                }
                _ => None,
            };
            match len {
                Some(len) => Some(FieldType::Array(Box::new(elem), len)),
                None => {
                    diags.push(
                        Diagnostic::new(at(&a.len), "array lengths must be integer literals")
                            .help("write the length as a number, e.g. `[f32; 16]`"),
                    );
                    None
                }
            }
        }
        syn::Type::Paren(p) => field_type(&p.elem, diags),
        syn::Type::Tuple(t) if t.elems.is_empty() => {
            diags.push(Diagnostic::new(at(ty), "`()` cannot be a field").help(DSL_TYPES_HELP));
            None
        }
        syn::Type::Reference(_) | syn::Type::Ptr(_) => {
            diags.push(
                Diagnostic::new(at(ty), "references and pointers are not DSL types")
                    .help(DSL_TYPES_HELP),
            );
            None
        }
        _ => {
            diags.push(
                Diagnostic::new(at(ty), "this type is not supported in kernels")
                    .help(DSL_TYPES_HELP),
            );
            None
        }
    }
}

/// A value type (parameter, return, `let` annotation).
pub(crate) fn value_type(ty: &syn::Type, diags: &mut Diagnostics) -> Option<Ty> {
    if let syn::Type::Tuple(t) = ty {
        if t.elems.is_empty() {
            return Some(Ty::Unit);
        }
    }
    field_type(ty, diags).map(|f| Ty::from(&f))
}

/// The definition of a `#[derive(RingMessage)]` struct.
pub(crate) fn struct_def(item: &syn::ItemStruct, diags: &mut Diagnostics) -> Option<StructDef> {
    let fields = match &item.fields {
        syn::Fields::Named(named) => &named.named,
        syn::Fields::Unit => {
            return Some(StructDef { name: item.ident.to_string(), fields: Vec::new() });
        }
        syn::Fields::Unnamed(_) => {
            diags.push(
                Diagnostic::new(at(&item.ident), "tuple structs are not supported as messages")
                    .help("name the fields: `struct S { a: u32 }`"),
            );
            return None;
        }
    };
    let mut out = Vec::new();
    let mut ok = true;
    for field in fields {
        let name = field.ident.as_ref().map(|i| i.to_string()).unwrap_or_default();
        match field_type(&field.ty, diags) {
            Some(ty) => out.push((name, ty)),
            None => ok = false,
        }
    }
    ok.then(|| StructDef { name: item.ident.to_string(), fields: out })
}
