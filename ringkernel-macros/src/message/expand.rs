//! Code generation for `#[derive(RingMessage)]`.

use proc_macro2::TokenStream;
use quote::quote;

use super::{EnumMessage, Message};

/// The explicit `#[message(type_id = N)]`, or the hash of the type's module path and name.
fn type_id(explicit: Option<u64>, name: &str, p: &TokenStream) -> TokenStream {
    match explicit {
        Some(id) => quote!(#id),
        None => quote!(#p::type_id_of(::core::concat!(::core::module_path!(), "::", #name))),
    }
}

/// The `RingMessage` methods every derived type shares: they go through `RingField`.
fn message_methods(p: &TokenStream) -> TokenStream {
    quote! {
        fn encode(&self, out: &mut [u8]) -> ::core::result::Result<(), #p::MessageError> {
            #p::check_size(&<Self as #p::RingMessage>::LAYOUT, out.len())?;
            <Self as #p::RingField>::write_field(self, out);
            ::core::result::Result::Ok(())
        }

        fn decode(bytes: &[u8]) -> ::core::result::Result<Self, #p::MessageError> {
            #p::check_size(&<Self as #p::RingMessage>::LAYOUT, bytes.len())?;
            <Self as #p::RingField>::read_field(bytes)
        }

        fn as_bytes(&self) -> ::core::option::Option<&[u8]> {
            #p::byte_view(self)
        }
    }
}

pub(crate) fn expand(message: &Message<'_>) -> TokenStream {
    let ident = message.ident;
    let name = ident.to_string();
    let p = quote!(::ringkernel::__private);
    let methods = message_methods(&p);
    let idents: Vec<_> = message.fields.iter().map(|f| f.ident).collect();
    let names: Vec<String> = idents.iter().map(|i| i.to_string()).collect();
    let types: Vec<_> = message.fields.iter().map(|f| f.ty).collect();
    let type_id = type_id(message.type_id, &name, &p);
    quote! {
        #[automatically_derived]
        impl #p::RingField for #ident {
            const SIZE: usize = ::core::mem::size_of::<Self>();
            const PADDING_FREE: bool = (0 #( + ::core::mem::size_of::<#types>() )*) == ::core::mem::size_of::<Self>()
                #( && <#types as #p::RingField>::PADDING_FREE )*;

            fn write_field(&self, out: &mut [u8]) {
                // Padding is written as zeros: no uninitialised byte ever leaves the process.
                out.fill(0);
                #(
                    let offset = ::core::mem::offset_of!(#ident, #idents);
                    <#types as #p::RingField>::write_field(&self.#idents, &mut out[offset..offset + <#types as #p::RingField>::SIZE]);
                )*
            }

            fn read_field(bytes: &[u8]) -> ::core::result::Result<Self, #p::MessageError> {
                ::core::result::Result::Ok(Self {
                    #(
                        #idents: {
                            let offset = ::core::mem::offset_of!(#ident, #idents);
                            <#types as #p::RingField>::read_field(&bytes[offset..offset + <#types as #p::RingField>::SIZE])
                                .map_err(|error| #p::MessageError::in_field(error, #name, #names))?
                        },
                    )*
                })
            }

            fn zeroed() -> Self {
                Self { #( #idents: <#types as #p::RingField>::zeroed(), )* }
            }
        }

        #[automatically_derived]
        impl #p::RingMessage for #ident {
            const TYPE_ID: u64 = #type_id;
            const LAYOUT: #p::TypeLayout = #p::TypeLayout {
                name: #name,
                size: ::core::mem::size_of::<Self>() as u32,
                align: ::core::mem::align_of::<Self>() as u32,
                fields: &[
                    #(
                        #p::FieldLayout {
                            name: #names,
                            offset: ::core::mem::offset_of!(#ident, #idents) as u32,
                            size: ::core::mem::size_of::<#types>() as u32,
                        },
                    )*
                ],
            };

            #methods
        }
    }
}

/// A fieldless enum travels as its discriminant in its `#[repr]` integer; reading bytes that
/// name no variant is `MessageError::InvalidValue`, never an invalid value.
pub(crate) fn expand_enum(message: &EnumMessage<'_>) -> TokenStream {
    let ident = message.ident;
    let name = ident.to_string();
    let p = quote!(::ringkernel::__private);
    let methods = message_methods(&p);
    let repr = &message.repr;
    let variants = &message.variants;
    let first = variants[0];
    let type_id = type_id(message.type_id, &name, &p);
    quote! {
        #[automatically_derived]
        impl #p::RingField for #ident {
            const SIZE: usize = ::core::mem::size_of::<#repr>();

            fn write_field(&self, out: &mut [u8]) {
                out.copy_from_slice(&(*self as #repr).to_le_bytes());
            }

            fn read_field(bytes: &[u8]) -> ::core::result::Result<Self, #p::MessageError> {
                let value = <#repr as #p::RingField>::read_field(bytes)?;
                #(
                    if value == #ident::#variants as #repr {
                        return ::core::result::Result::Ok(#ident::#variants);
                    }
                )*
                ::core::result::Result::Err(#p::MessageError::InvalidValue { type_name: #name, field: "discriminant" })
            }

            /// The first variant, as an out-of-bounds read on the GPU gives.
            fn zeroed() -> Self {
                #ident::#first
            }
        }

        #[automatically_derived]
        impl #p::RingMessage for #ident {
            const TYPE_ID: u64 = #type_id;
            const LAYOUT: #p::TypeLayout =
                #p::TypeLayout::scalar(#name, ::core::mem::size_of::<#repr>() as u32);

            #methods
        }
    }
}
