//! Reading types written in the source: field types, parameter types, `as` targets.

use std::collections::BTreeMap;

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::ir::Ty;
use crate::layout::{EnumDef, FieldType, Scalar, StructDef};

use super::at;
#[allow(unused_imports)]
use syn::spanned::Spanned as _;

const DSL_TYPES_HELP: &str = "use a scalar (bool, i8..i64, u8..u64, isize, usize, f32, f64), a fixed array `[T; N]` or a #[derive(RingMessage)] struct";

/// Why a written type is not a DSL type: where, what, and what to write instead. Shared
/// by the build-time front end and the proc macros (which report it with the span).
pub struct TypeProblem {
    /// The offending part of the type.
    pub span: proc_macro2::Span,
    /// What is wrong.
    pub message: String,
    /// What to write instead.
    pub help: &'static str,
}

/// Reads a field or parameter type: a scalar, `[T; N]` with a literal `N`, or a struct name
/// (assumed to be a `#[derive(RingMessage)]` struct).
pub fn classify_type(ty: &syn::Type) -> Result<FieldType, TypeProblem> {
    use syn::spanned::Spanned;
    let problem = |node: &dyn Spanned, message: String| TypeProblem {
        span: node.span(),
        message,
        help: DSL_TYPES_HELP,
    };
    match ty {
        syn::Type::Path(p) if p.qself.is_none() => {
            let Some(last) = p.path.segments.last() else {
                return Err(problem(ty, "empty type path".into()));
            };
            let name = last.ident.to_string();
            if !last.arguments.is_empty() {
                return Err(problem(
                    ty,
                    format!(
                        "`{name}<...>` is not a DSL type: generic and heap types are not supported on the GPU"
                    ),
                ));
            }
            if let Some(scalar) = Scalar::from_name(&name) {
                return Ok(FieldType::Scalar(scalar));
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
                return Err(problem(ty, format!("`{name}` is not a DSL type")));
            }
            Ok(FieldType::Struct(name))
        }
        syn::Type::Array(a) => {
            let elem = classify_type(&a.elem)?;
            match &a.len {
                syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Int(n), .. })
                    if n.base10_parse::<u32>().is_ok() =>
                {
                    Ok(FieldType::Array(Box::new(elem), n.base10_parse::<u32>().unwrap_or(0)))
                }
                other => Err(TypeProblem {
                    span: other.span(),
                    message: "array lengths must be integer literals".into(),
                    help: "write the length as a number, e.g. `[f32; 16]`",
                }),
            }
        }
        syn::Type::Paren(p) => classify_type(&p.elem),
        syn::Type::Tuple(t) if t.elems.is_empty() => {
            Err(problem(ty, "`()` cannot be a field".into()))
        }
        syn::Type::Tuple(_) => Err(TypeProblem {
            span: ty.span(),
            message: "a tuple cannot be a message or a message field: Rust does not fix its layout"
                .into(),
            help: "use a #[derive(RingMessage)] #[repr(C)] struct with named fields",
        }),
        syn::Type::Reference(_) | syn::Type::Ptr(_) => {
            Err(problem(ty, "references and pointers are not DSL types".into()))
        }
        _ => Err(problem(ty, "this type is not supported in kernels".into())),
    }
}

/// Checks a value's type (a parameter, a result, a `let` annotation): a DSL type, or a
/// tuple of them (which a field cannot be).
pub fn check_value_type(ty: &syn::Type) -> Result<(), TypeProblem> {
    match ty {
        syn::Type::Tuple(parts) => parts.elems.iter().try_for_each(check_value_type),
        syn::Type::Paren(p) => check_value_type(&p.elem),
        _ => classify_type(ty).map(|_| ()),
    }
}

/// A field or parameter type; `None` (with a diagnostic) when it is not a DSL type.
pub(crate) fn field_type(ty: &syn::Type, diags: &mut Diagnostics) -> Option<FieldType> {
    match classify_type(ty) {
        Ok(t) => Some(t),
        Err(problem) => {
            diags.push(
                Diagnostic::new(super::span_of(problem.span), problem.message).help(problem.help),
            );
            None
        }
    }
}

/// A value type (parameter, return, `let` annotation); a name in `enums` is that enum.
pub(crate) fn value_type(
    ty: &syn::Type,
    enums: &BTreeMap<String, EnumDef>,
    diags: &mut Diagnostics,
) -> Option<Ty> {
    match ty {
        syn::Type::Tuple(t) if t.elems.is_empty() => return Some(Ty::Unit),
        syn::Type::Tuple(t) => {
            let parts: Vec<Option<Ty>> =
                t.elems.iter().map(|part| value_type(part, enums, diags)).collect();
            return parts.into_iter().collect::<Option<Vec<Ty>>>().map(Ty::Tuple);
        }
        syn::Type::Paren(p) => return value_type(&p.elem, enums, diags),
        _ => {}
    }
    field_type(ty, diags).map(|f| Ty::from(&f.resolve_enums(enums)))
}

/// `ty` with `Self` (in a method) replaced by the type it stands for.
pub(crate) fn resolve_self(ty: Ty, self_ty: Option<&Ty>) -> Ty {
    match (ty, self_ty) {
        (Ty::Struct(name), Some(own)) if name == "Self" => own.clone(),
        (Ty::Array(elem, n), own) => Ty::Array(Box::new(resolve_self(*elem, own)), n),
        (other, _) => other,
    }
}

/// The type a struct or enum name denotes.
pub(crate) fn named_type(name: &str, enums: &BTreeMap<String, EnumDef>) -> Ty {
    match enums.get(name) {
        Some(def) => Ty::Enum(name.to_owned(), def.repr),
        None => Ty::Struct(name.to_owned()),
    }
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

/// The integer of `#[repr(..)]` on an enum, when there is one.
fn enum_repr(item: &syn::ItemEnum) -> Option<Scalar> {
    let mut repr = None;
    for attr in item.attrs.iter().filter(|a| a.path().is_ident("repr")) {
        let _ = attr.parse_nested_meta(|meta| {
            if let Some(s) = meta.path.get_ident().and_then(|i| Scalar::from_name(&i.to_string())) {
                repr = repr.or(Some(s));
            }
            Ok(())
        });
    }
    repr.filter(|s| s.is_int())
}

/// A discriminant written as an integer literal, negative ones included.
fn discriminant_literal(e: &syn::Expr) -> Option<i128> {
    match e {
        syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Int(i), .. }) => {
            i.base10_digits().parse::<i128>().ok()
        }
        syn::Expr::Unary(syn::ExprUnary { op: syn::UnOp::Neg(_), expr, .. }) => {
            discriminant_literal(expr).map(|v| -v)
        }
        syn::Expr::Paren(p) => discriminant_literal(&p.expr),
        syn::Expr::Group(g) => discriminant_literal(&g.expr),
        _ => None,
    }
}

/// The definition of a `#[derive(RingMessage)]` enum: fieldless variants, a `#[repr]`
/// integer, discriminants that are literals (or the previous one plus 1) within it.
pub(crate) fn enum_def(item: &syn::ItemEnum, diags: &mut Diagnostics) -> Option<EnumDef> {
    let name = item.ident.to_string();
    let Some(repr) = enum_repr(item) else {
        diags.push(
            Diagnostic::new(at(&item.ident), format!("enum `{name}` needs an integer `#[repr]`"))
                .help("add `#[repr(u8)]` (or `u16`, `u32`, ...) so that the CPU and the GPU agree on its size"),
        );
        return None;
    };
    if !item.generics.params.is_empty() {
        diags.push(
            Diagnostic::new(at(&item.generics), "RingMessage enums cannot be generic")
                .help("a message type has one fixed layout"),
        );
        return None;
    }
    if item.variants.is_empty() {
        diags.push(
            Diagnostic::new(at(&item.ident), format!("enum `{name}` has no variants"))
                .help("a message value needs at least one variant"),
        );
        return None;
    }
    let (lo, hi) = repr.int_range();
    let mut variants: Vec<(String, i128)> = Vec::new();
    let mut next = 0i128;
    let mut ok = true;
    for variant in &item.variants {
        let vname = variant.ident.to_string();
        if !matches!(variant.fields, syn::Fields::Unit) {
            diags.push(
                Diagnostic::new(
                    at(&variant.fields),
                    format!("variant `{name}::{vname}` has fields; RingMessage enums are fieldless"),
                )
                .help("move the data into a struct beside the enum: `struct Cmd { op: Op, value: u32 }`"),
            );
            ok = false;
            continue;
        }
        let value = match &variant.discriminant {
            Some((_, e)) => match discriminant_literal(e) {
                Some(v) => v,
                None => {
                    diags.push(
                        Diagnostic::new(at(e), "enum discriminants must be integer literals")
                            .help("write the value as a number: `Add = 1`"),
                    );
                    ok = false;
                    continue;
                }
            },
            None => next,
        };
        if value < lo || value > hi {
            diags.push(
                Diagnostic::new(
                    at(&variant.ident),
                    format!(
                        "discriminant {value} of `{name}::{vname}` does not fit `{}`",
                        repr.name()
                    ),
                )
                .help("choose a value in range or a wider `#[repr]`"),
            );
            ok = false;
        } else if let Some((other, _)) = variants.iter().find(|(_, d)| *d == value) {
            diags.push(
                Diagnostic::new(
                    at(&variant.ident),
                    format!(
                        "`{name}::{vname}` and `{name}::{other}` have one discriminant, {value}"
                    ),
                )
                .help("give every variant its own value"),
            );
            ok = false;
        }
        variants.push((vname, value));
        next = value + 1;
    }
    ok.then_some(EnumDef { name, repr, variants })
}
