//! `#[derive(RingMessage)]`: parse → validate → expand.

mod expand;

use proc_macro2::TokenStream;
use syn::spanned::Spanned;

/// One field, with its original for spans.
pub(crate) struct Field<'a> {
    pub ident: &'a syn::Ident,
    pub ty: &'a syn::Type,
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
    match parse_and_validate(&item) {
        Ok(message) => expand::expand(&message),
        Err(err) => err.to_compile_error(),
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
        syn::Data::Enum(e) => errors.push(syn::Error::new(
            e.enum_token.span,
            "`RingMessage` can only be derived for structs, not enums",
        )),
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
