//! Code generation for `#[ring_kernel]`, `#[rule]` and `#[device]`.

use std::path::PathBuf;

use proc_macro2::{Span, TokenStream};
use quote::quote;

use super::rewrite::rewrite_body;
use super::{Handler, Kind, camel};

/// `#[device]`: the function, with the DSL's semantics natively.
pub(crate) fn device(func: &syn::ItemFn) -> TokenStream {
    let mut func = func.clone();
    rewrite_body(&mut func.block, false);
    quote!(#func)
}

/// Where build.rs put the artifact of `id` v`version`, or an error saying what to add.
fn artifact_path(kind: Kind, id: &str, version: u64) -> Result<PathBuf, syn::Error> {
    let name = kind.name();
    let dir = std::env::var_os("RINGKERNEL_ARTIFACT_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("OUT_DIR").map(|d| PathBuf::from(d).join("ringkernel")));
    let Some(dir) = dir else {
        return Err(syn::Error::new(
            Span::call_site(),
            format!(
                "`#[{name}]` needs the PTX that build.rs compiles, and this crate has no build script\n  = help: add `build.rs` containing `fn main() {{ ringkernel_codegen::Build::new().run(); }}` and `ringkernel-codegen` under `[build-dependencies]`"
            ),
        ));
    };
    let path = dir.join(format!("{id}-v{version}.ptx"));
    if !path.is_file() {
        return Err(syn::Error::new(
            Span::call_site(),
            format!(
                "no PTX artifact `{id}-v{version}.ptx` among those build.rs wrote: build.rs did not compile this handler\n  = help: call `ringkernel_codegen::Build::new().run()` in build.rs, scanning the directory of this file (by default src/, examples/ and tests/)"
            ),
        ));
    }
    Ok(path)
}

pub(crate) fn handler(kind: Kind, h: &Handler<'_>) -> Result<TokenStream, syn::Error> {
    let attrs = &h.attrs;
    let path = artifact_path(kind, &attrs.id, attrs.version)?;
    let path = path.to_string_lossy().to_string();
    let mut func = h.func.clone();
    rewrite_body(&mut func.block, attrs.fast_math);
    let fn_name = &func.sig.ident;
    let vis = &func.vis;
    let suffix = if kind == Kind::Rule { "Rule" } else { "Kernel" };
    let ty = camel(&fn_name.to_string(), suffix);
    let (msg, resp) = (h.message, &h.response);
    let (id, version) = (&attrs.id, attrs.version);
    let a = &attrs.actor;
    let (grid, block, queue, shared) =
        (a.grid_size, a.block_size, a.queue_capacity, a.shared_memory_bytes);
    let p = quote!(::ringkernel::__private);
    let awaited = if func.sig.asyncness.is_some() { quote!(.await) } else { quote!() };
    let _ = h.ctx_ty;

    let (fields, state_arg, new_fn, default_body, state_size, state_bytes, set_state, state_layout) =
        match h.state {
            Some(state) => (
                quote!({ #[doc = "The actor's state."] pub state: #state }),
                quote!(&mut self.state),
                quote! {
                    #[doc = "A kernel value holding `state`."]
                    pub fn new(state: #state) -> Self { Self { state } }
                },
                quote!(Self { state: <#state as #p::RingField>::zeroed() }),
                quote!(<#state as #p::RingMessage>::LAYOUT.size as usize),
                quote!(<#state as #p::RingMessage>::to_bytes(&self.state)),
                quote! {
                    self.state = <#state as #p::RingMessage>::decode(bytes)?;
                    ::core::result::Result::Ok(())
                },
                quote!(::core::option::Option::Some(&<#state as #p::RingMessage>::LAYOUT)),
            ),
            None => (
                quote!(;),
                quote!(),
                quote!(),
                quote!(Self),
                quote!(0usize),
                quote!(::std::vec::Vec::new()),
                quote! {
                    #p::check_size(&<() as #p::RingMessage>::LAYOUT, bytes.len())
                },
                quote!(::core::option::Option::None),
            ),
        };
    let state_arg_comma = if h.state.is_some() { quote!(#state_arg,) } else { quote!() };
    let call_sync = if func.sig.asyncness.is_some() {
        quote!(#p::ready(#fn_name(ctx, #state_arg_comma message)))
    } else {
        quote!(::core::result::Result::Ok(#fn_name(ctx, #state_arg_comma message)))
    };
    let max_steps = attrs.max_steps;
    // A message aborted by its budget leaves the state as it was (up to the snapshot limit,
    // as on the GPU).
    let (save_state, restore_state) = match h.state {
        Some(state) => (
            quote! {
                let saved = if <#state as #p::RingMessage>::LAYOUT.size <= #p::STATE_SNAPSHOT_LIMIT {
                    ::core::option::Option::Some(self.state)
                } else {
                    ::core::option::Option::None
                };
            },
            quote! {
                if let ::core::option::Option::Some(saved) = saved { self.state = saved; }
            },
        ),
        None => (quote!(), quote!()),
    };
    let rule_items = if kind == Kind::Rule {
        quote! {
            impl #ty {
                /// The `CompiledRule` built from this rule's artifact, ready for the registry.
                pub fn compiled() -> ::ringkernel::rules::CompiledRule {
                    match ::ringkernel::rules::CompiledRule::from_artifact_text(Self::ARTIFACT) {
                        ::core::result::Result::Ok(rule) => rule,
                        // The artifact was written by build.rs and its layouts were checked at
                        // compile time; this cannot fail unless the file was edited by hand.
                        ::core::result::Result::Err(err) => ::core::panic!("invalid artifact for `{}` v{}: {}", #id, #version, err),
                    }
                }
            }

            #p::inventory::submit! {
                #p::HostRule {
                    id: #id,
                    version: #version,
                    artifact: #ty::ARTIFACT,
                    new_handler: || ::std::boxed::Box::new(<#ty as ::core::default::Default>::default()),
                }
            }
        }
    } else {
        quote!()
    };
    let kind_doc = if kind == Kind::Rule {
        format!("Rule `{id}` v{version}, generated by `#[rule]` from `{fn_name}`.")
    } else {
        format!("Kernel `{id}`, generated by `#[ring_kernel]` from `{fn_name}`.")
    };
    Ok(quote! {
        #func

        #[doc = #kind_doc]
        #vis struct #ty #fields

        #[automatically_derived]
        impl ::core::default::Default for #ty {
            fn default() -> Self { #default_body }
        }

        impl #ty {
            /// Kernel or rule id.
            pub const ID: &'static str = #id;
            /// Version (1 for kernels).
            pub const VERSION: u64 = #version;
            /// The PTX artifact build.rs compiled from this handler.
            pub const ARTIFACT: &'static str = ::core::include_str!(#path);
            #new_fn
        }

        // The layouts the PTX was compiled for must be the ones rustc chose.
        const _: () = {
            ::core::assert!(#p::artifact_layout_matches(#ty::ARTIFACT, "message", ::core::option::Option::Some(&<#msg as #p::RingMessage>::LAYOUT)), "the message layout recorded in the PTX artifact differs from rustc's: rebuild (build.rs) after changing message types");
            ::core::assert!(#p::artifact_layout_matches(#ty::ARTIFACT, "response", ::core::option::Option::Some(&<#resp as #p::RingMessage>::LAYOUT)), "the response layout recorded in the PTX artifact differs from rustc's: rebuild (build.rs) after changing message types");
            ::core::assert!(#p::artifact_layout_matches(#ty::ARTIFACT, "state", #state_layout), "the state layout recorded in the PTX artifact differs from rustc's: rebuild (build.rs) after changing the state type");
        };

        #[automatically_derived]
        impl ::ringkernel::GpuKernel for #ty {
            fn id(&self) -> &str { #id }
            fn launch_config(&self) -> ::ringkernel::LaunchConfig {
                ::ringkernel::LaunchConfig { grid_size: #grid, block_size: #block, shared_memory_bytes: #shared }
            }
            fn queue_capacity(&self) -> u32 { #queue }
            fn ptx_artifact(&self) -> ::core::option::Option<&'static str> { ::core::option::Option::Some(Self::ARTIFACT) }
        }

        #[::ringkernel::async_trait]
        #[automatically_derived]
        impl ::ringkernel::RingKernelHandler<#msg, #resp> for #ty {
            async fn handle(&mut self, ctx: &mut ::ringkernel::RingContext, message: #msg) -> ::core::result::Result<#resp, ::ringkernel::HandlerError> {
                ::core::result::Result::Ok(#fn_name(ctx, #state_arg_comma message)#awaited)
            }
        }

        #[automatically_derived]
        impl #p::ByteHandler for #ty {
            fn handle_bytes(&mut self, ctx: &mut ::ringkernel::RingContext, message: &[u8], response: &mut [u8]) -> ::core::result::Result<(), ::ringkernel::HandlerError> {
                let message = <#msg as #p::RingMessage>::decode(message).map_err(|e| ::ringkernel::HandlerError::Rejected(e.to_string()))?;
                #save_state
                let result: #resp = match #p::run_budgeted(#max_steps, || #call_sync) {
                    ::core::result::Result::Ok(result) => result,
                    ::core::result::Result::Err(err) => {
                        #restore_state
                        return ::core::result::Result::Err(err);
                    }
                };
                <#resp as #p::RingMessage>::encode(&result, response).map_err(|e| ::ringkernel::HandlerError::Rejected(e.to_string()))
            }
            fn state_bytes(&self) -> ::std::vec::Vec<u8> { #state_bytes }
            fn set_state_bytes(&mut self, bytes: &[u8]) -> ::core::result::Result<(), #p::MessageError> { #set_state }
            fn type_ids(&self) -> (u64, u64) {
                (<#msg as #p::RingMessage>::TYPE_ID, <#resp as #p::RingMessage>::TYPE_ID)
            }
            fn sizes(&self) -> (usize, usize, usize) {
                (<#msg as #p::RingMessage>::LAYOUT.size as usize, <#resp as #p::RingMessage>::LAYOUT.size as usize, #state_size)
            }
        }

        #rule_items
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_crate_without_a_build_script_is_told_what_to_add() {
        // SAFETY: the only test of this crate that touches the environment; nothing else in
        // this process reads these variables concurrently.
        unsafe {
            std::env::remove_var("OUT_DIR");
            std::env::remove_var("RINGKERNEL_ARTIFACT_DIR");
        }
        let err = artifact_path(Kind::RingKernel, "counter", 1).unwrap_err().to_string();
        assert!(err.starts_with("`#[ring_kernel]` needs the PTX that build.rs compiles, and this crate has no build script"), "{err}");
        assert!(
            err.contains(
                "add `build.rs` containing `fn main() { ringkernel_codegen::Build::new().run(); }`"
            ),
            "{err}"
        );
        assert!(err.contains("`ringkernel-codegen` under `[build-dependencies]`"), "{err}");
        let dir = std::env::temp_dir().join(format!("rk-no-artifact-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // SAFETY: as above.
        unsafe { std::env::set_var("RINGKERNEL_ARTIFACT_DIR", &dir) };
        let err = artifact_path(Kind::Rule, "scorer", 4).unwrap_err().to_string();
        assert!(err.starts_with("no PTX artifact `scorer-v4.ptx`"), "{err}");
        std::fs::write(dir.join("scorer-v4.ptx"), "x").unwrap();
        assert_eq!(artifact_path(Kind::Rule, "scorer", 4).unwrap(), dir.join("scorer-v4.ptx"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
