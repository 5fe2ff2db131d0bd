//! `#[ring_kernel]`, `#[rule]` and `#[device]`: parse → validate → expand.

mod expand;
mod rewrite;

use proc_macro2::{Span, TokenStream};
use quote::quote;
use ringkernel_codegen::front::KernelAttrs;
use syn::spanned::Spanned;

use crate::message::Errors;

/// Which attribute.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    RingKernel,
    Rule,
    Device,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::RingKernel => "ring_kernel",
            Kind::Rule => "rule",
            Kind::Device => "device",
        }
    }
}

/// A validated handler signature.
pub(crate) struct Handler<'a> {
    pub func: &'a syn::ItemFn,
    pub attrs: KernelAttrs,
    pub ctx_ty: &'a syn::Type,
    pub state: Option<&'a syn::Type>,
    pub message: &'a syn::Type,
    pub response: syn::Type,
}

pub(crate) fn expand(kind: Kind, args: TokenStream, item: TokenStream) -> TokenStream {
    let func: syn::ItemFn = match syn::parse2(item.clone()) {
        Ok(func) => func,
        Err(_) => {
            let message = format!("`#[{}]` goes on a function", kind.name());
            let error = syn::Error::new(Span::call_site(), message).to_compile_error();
            return quote!(#error #item);
        }
    };
    match validate(kind, args, &func) {
        Ok(None) => expand::device(&func),
        Ok(Some(handler)) => match expand::handler(kind, &handler) {
            Ok(tokens) => tokens,
            Err(err) => failed(err, &func),
        },
        Err(err) => failed(err, &func),
    }
}

/// On error: the errors and the user's function unchanged, so that the rest of the crate
/// (and the IDE) still sees it.
fn failed(err: syn::Error, func: &syn::ItemFn) -> TokenStream {
    let error = err.to_compile_error();
    quote!(#error #func)
}

fn validate(
    kind: Kind,
    args: TokenStream,
    func: &syn::ItemFn,
) -> Result<Option<Handler<'_>>, syn::Error> {
    let mut errors = Errors::default();
    let name = kind.name();
    let sig = &func.sig;
    if !sig.generics.params.is_empty() {
        errors.push(syn::Error::new(sig.generics.span(), format!("`#[{name}]` functions cannot be generic: kernels have one fixed layout\n  = help: use concrete types")));
    }
    if let Some(unsafety) = &sig.unsafety {
        errors.push(syn::Error::new(
            unsafety.span,
            format!("`#[{name}]` functions cannot be `unsafe`"),
        ));
    }
    if let Some(abi) = &sig.abi {
        errors.push(syn::Error::new(
            abi.span(),
            format!("`#[{name}]` functions cannot declare an ABI"),
        ));
    }
    for (span, message) in ringkernel_codegen::front::syntax::unsupported_constructs(&func.block) {
        errors.push(syn::Error::new(span, message));
    }
    if kind == Kind::Device {
        if !args.is_empty() {
            errors.push(syn::Error::new(args.span(), "`#[device]` takes no arguments"));
        }
        if let Some(asyncness) = &sig.asyncness {
            errors.push(syn::Error::new(
                asyncness.span,
                "`#[device]` functions cannot be `async`\n  = help: remove `async`",
            ));
        }
        for input in &sig.inputs {
            match input {
                // A method of a message struct: `self` or `&self` (the front end checks the
                // rest, knowing the `impl`).
                syn::FnArg::Receiver(r) if r.mutability.is_none() => {}
                syn::FnArg::Receiver(r) => errors.push(syn::Error::new(
                    r.span(),
                    "`#[device]` methods take `self` or `&self`\n  = help: a method cannot change its struct: return the new value instead",
                )),
                syn::FnArg::Typed(t) => {
                    if let Err(problem) = ringkernel_codegen::front::types::check_value_type(&t.ty)
                    {
                        errors.push(syn::Error::new(
                            problem.span,
                            format!("{}\n  = help: {}", problem.message, problem.help),
                        ));
                    }
                }
            }
        }
        errors.finish()?;
        return Ok(None);
    }
    let attrs = match ringkernel_codegen::front::parse_kernel_args(
        args,
        kind == Kind::Rule,
        Span::call_site(),
    ) {
        Ok(attrs) => Some(attrs),
        Err(err) => {
            errors.push(err);
            None
        }
    };
    let shape = "\n  = help: write `fn name(ctx: &mut RingContext, [state: &mut State,] msg: Message) -> Response`";
    let types: Vec<Option<&syn::Type>> = sig
        .inputs
        .iter()
        .map(|arg| match arg {
            syn::FnArg::Typed(t) => Some(&*t.ty),
            syn::FnArg::Receiver(_) => None,
        })
        .collect();
    let mut parts = None;
    if types.iter().any(Option::is_none) {
        errors.push(syn::Error::new(
            sig.inputs.span(),
            format!("handlers cannot take `self`{shape}"),
        ));
    } else if !(2..=3).contains(&types.len()) {
        errors.push(syn::Error::new(
            sig.inputs.span(),
            format!("a handler takes 2 or 3 parameters, {} given{shape}", types.len()),
        ));
    } else {
        let types: Vec<&syn::Type> = types.into_iter().flatten().collect();
        let is_mut_ref_to = |ty: &syn::Type, what: Option<&str>| match ty {
            syn::Type::Reference(r) if r.mutability.is_some() => match (what, &*r.elem) {
                (Some(name), syn::Type::Path(p)) => {
                    p.path.segments.last().is_some_and(|s| s.ident == name)
                }
                (None, _) => true,
                _ => false,
            },
            _ => false,
        };
        if !is_mut_ref_to(types[0], Some("RingContext")) {
            errors.push(syn::Error::new(
                types[0].span(),
                format!("the first parameter must be `ctx: &mut RingContext`{shape}"),
            ));
        }
        let message = types[types.len() - 1];
        if matches!(message, syn::Type::Reference(_)) {
            errors.push(syn::Error::new(
                message.span(),
                format!("the message is taken by value, not by reference{shape}"),
            ));
        } else if let Err(problem) = ringkernel_codegen::front::types::classify_type(message) {
            errors.push(syn::Error::new(
                problem.span,
                format!("{}\n  = help: {}", problem.message, problem.help),
            ));
        }
        let state = if types.len() == 3 {
            match types[1] {
                syn::Type::Reference(r) if r.mutability.is_some() => Some(&*r.elem),
                other => {
                    errors.push(syn::Error::new(
                        other.span(),
                        format!("the state parameter must be `&mut State`{shape}"),
                    ));
                    None
                }
            }
        } else {
            None
        };
        parts = Some((types[0], state, message));
    }
    let response: syn::Type = match &sig.output {
        syn::ReturnType::Default => syn::parse_quote!(()),
        syn::ReturnType::Type(_, ty) => (**ty).clone(),
    };
    errors.finish()?;
    let (Some(attrs), Some((ctx_ty, state, message))) = (attrs, parts) else {
        return Err(syn::Error::new(Span::call_site(), "invalid handler"));
    };
    Ok(Some(Handler { func, attrs, ctx_ty, state, message, response }))
}

/// `fn_name` → `FnName` + suffix.
pub(crate) fn camel(name: &str, suffix: &str) -> syn::Ident {
    let mut out = String::new();
    for part in name.split('_').filter(|p| !p.is_empty()) {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            out.extend(first.to_uppercase());
            out.push_str(chars.as_str());
        }
    }
    out.push_str(suffix);
    syn::Ident::new(&out, Span::call_site())
}
