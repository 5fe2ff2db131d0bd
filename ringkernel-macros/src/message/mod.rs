//! `#[derive(RingMessage)]`: parse → validate → expand.

mod expand;

use proc_macro2::TokenStream;
use syn::spanned::Spanned;

/// One field, with its original for spans.
pub(crate) struct Field<'a> {
    pub ident: &'a syn::Ident,
    pub ty: &'a syn::Type,
}

/// A parsed fieldless enum: its `#[repr]` integer and its variants.
pub(crate) struct EnumMessage<'a> {
    pub ident: &'a syn::Ident,
    pub repr: syn::Ident,
    pub variants: Vec<&'a syn::Ident>,
    pub type_id: Option<u64>,
}

/// The parsed input.
pub(crate) struct Message<'a> {
    pub ident: &'a syn::Ident,
    pub fields: Vec<Field<'a>>,
    pub type_id: Option<u64>,
}

/// Collects errors so that the user sees every problem at once.
#[derive(Default)]
pub(crate) struct Errors(Option<syn::Error>);

impl Errors {
    pub fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(existing) => existing.combine(error),
            None => self.0 = Some(error),
        }
    }

    pub fn finish(self) -> Result<(), syn::Error> {
        self.0.map_or(Ok(()), Err)
    }
}

pub(crate) fn derive(input: TokenStream) -> TokenStream {
    let item: syn::DeriveInput = match syn::parse2(input) {
        Ok(item) => item,
        Err(err) => return err.to_compile_error(),
    };
    if let syn::Data::Enum(data) = &item.data {
        return match parse_enum(&item, data) {
            Ok(message) => expand::expand_enum(&message),
            Err(err) => err.to_compile_error(),
        };
    }
    match parse_and_validate(&item) {
        Ok(message) => expand::expand(&message),
        Err(err) => err.to_compile_error(),
    }
}

const ENUM_REPRS: [&str; 8] = ["u8", "i8", "u16", "i16", "u32", "i32", "u64", "i64"];

/// A fieldless enum with an integer `#[repr]`: every problem at once.
fn parse_enum<'a>(
    item: &'a syn::DeriveInput,
    data: &'a syn::DataEnum,
) -> Result<EnumMessage<'a>, syn::Error> {
    let mut errors = Errors::default();
    let name = &item.ident;
    let mut repr = None;
    for attr in item.attrs.iter().filter(|a| a.path().is_ident("repr")) {
        let _ = attr.parse_nested_meta(|meta| {
            if let Some(ident) = meta.path.get_ident() {
                if ENUM_REPRS.contains(&ident.to_string().as_str()) {
                    repr = Some(ident.clone());
                }
            }
            Ok(())
        });
    }
    if repr.is_none() {
        errors.push(syn::Error::new(
            name.span(),
            format!("`RingMessage` enums need an integer `#[repr]`\n  = help: add `#[repr(u8)]` (or `u16`, `u32`, ...) above `enum {name}` so that the CPU and the GPU agree on its size"),
        ));
    }
    if !item.generics.params.is_empty() {
        errors.push(syn::Error::new(
            item.generics.span(),
            "`RingMessage` enums cannot be generic: the GPU layout must be fixed",
        ));
    }
    if data.variants.is_empty() {
        errors.push(syn::Error::new(
            name.span(),
            format!("`{name}` has no variants; a message value needs at least one"),
        ));
    }
    let mut variants = Vec::new();
    for variant in &data.variants {
        if !matches!(variant.fields, syn::Fields::Unit) {
            errors.push(syn::Error::new(
                variant.fields.span(),
                format!("variant `{name}::{}` has fields; `RingMessage` enums are fieldless\n  = help: keep the data in a struct beside the enum: `struct Cmd {{ op: Op, value: u32 }}`", variant.ident),
            ));
        }
        if let Some((_, e)) = &variant.discriminant {
            if !is_integer_literal(e) {
                errors.push(syn::Error::new(
                    e.span(),
                    "`RingMessage` discriminants must be integer literals\n  = help: write the value as a number: `Add = 1`",
                ));
            }
        }
        variants.push(&variant.ident);
    }
    let type_id = parse_message_attrs(item, &mut errors);
    errors.finish()?;
    let repr = repr.ok_or_else(|| syn::Error::new(name.span(), "missing `#[repr]`"))?;
    Ok(EnumMessage { ident: name, repr, variants, type_id })
}

fn is_integer_literal(e: &syn::Expr) -> bool {
    match e {
        syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Int(_), .. }) => true,
        syn::Expr::Unary(syn::ExprUnary { op: syn::UnOp::Neg(_), expr, .. }) => {
            is_integer_literal(expr)
        }
        syn::Expr::Paren(p) => is_integer_literal(&p.expr),
        syn::Expr::Group(g) => is_integer_literal(&g.expr),
        _ => false,
    }
}

fn parse_and_validate(item: &syn::DeriveInput) -> Result<Message<'_>, syn::Error> {
    let mut errors = Errors::default();
    if !item.attrs.iter().any(is_repr_c) {
        errors.push(syn::Error::new(
            item.ident.span(),
            format!("`RingMessage` requires `#[repr(C)]` on `{}`\n  = help: add `#[repr(C)]` above `struct {}` so that the CPU and the GPU agree on its layout", item.ident, item.ident),
        ));
    }
    if !item.generics.params.is_empty() {
        errors.push(syn::Error::new(
            item.generics.span(),
            "`RingMessage` structs cannot be generic: the GPU layout must be fixed",
        ));
    }
    let mut fields = Vec::new();
    match &item.data {
        syn::Data::Struct(s) => match &s.fields {
            syn::Fields::Named(named) => {
                for field in &named.named {
                    let Some(ident) = field.ident.as_ref() else { continue };
                    if let Err(problem) = ringkernel_codegen::front::types::classify_type(&field.ty)
                    {
                        errors.push(syn::Error::new(
                            problem.span,
                            format!(
                                "field `{ident}`: {}\n  = help: {}",
                                problem.message, problem.help
                            ),
                        ));
                    }
                    fields.push(Field { ident, ty: &field.ty });
                }
            }
            syn::Fields::Unit => {}
            syn::Fields::Unnamed(u) => errors.push(syn::Error::new(
                u.span(),
                "`RingMessage` needs named fields: write `struct S { a: u32 }`",
            )),
        },
        syn::Data::Enum(_) => {}
        syn::Data::Union(u) => errors.push(syn::Error::new(
            u.union_token.span,
            "`RingMessage` can only be derived for structs, not unions",
        )),
    }
    let type_id = parse_message_attrs(item, &mut errors);
    errors.finish()?;
    Ok(Message { ident: &item.ident, fields, type_id })
}

fn is_repr_c(attr: &syn::Attribute) -> bool {
    let mut c = false;
    if attr.path().is_ident("repr") {
        let _ = attr.parse_nested_meta(|meta| {
            c |= meta.path.is_ident("C");
            Ok(())
        });
    }
    c
}

fn parse_message_attrs(item: &syn::DeriveInput, errors: &mut Errors) -> Option<u64> {
    let mut type_id = None;
    for attr in item.attrs.iter().filter(|a| a.path().is_ident("message")) {
        let result = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("type_id") {
                if type_id.is_some() {
                    return Err(meta.error("duplicate `type_id`"));
                }
                let lit: syn::LitInt = meta.value()?.parse()?;
                let value: u64 = lit.base10_parse()?;
                if value < 256 {
                    return Err(syn::Error::new(
                        lit.span(),
                        "type ids below 256 are reserved for built-in types",
                    ));
                }
                type_id = Some(value);
                Ok(())
            } else {
                Err(meta.error("unknown `message` argument; valid: `type_id = N`"))
            }
        });
        if let Err(err) = result {
            errors.push(err);
        }
    }
    type_id
}
