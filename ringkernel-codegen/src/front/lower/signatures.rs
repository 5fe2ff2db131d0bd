//! Signatures of device functions and methods, known before any body is lowered (so that a
//! call may come before the callee's definition).

use std::collections::{BTreeMap, HashMap};

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::ir::*;

use super::super::at;
use super::super::types::{named_type, resolve_self, value_type};
use crate::layout::EnumDef;

/// Signature of a `#[device]` function.
pub(crate) struct DeviceSig {
    pub id: FuncId,
    pub params: Vec<Ty>,
    pub ret: Ty,
}

/// The signatures of `fns` by name, their ids counted from `base`.
pub(super) fn device_signatures(
    fns: &[syn::ItemFn],
    base: u32,
    enums: &BTreeMap<String, EnumDef>,
    diags: &mut Diagnostics,
) -> HashMap<String, DeviceSig> {
    let mut devices = HashMap::new();
    for (index, f) in fns.iter().enumerate() {
        let (params, ret) = signature(f, None, enums, diags);
        devices.insert(
            f.sig.ident.to_string(),
            DeviceSig { id: FuncId(base + index as u32), params, ret },
        );
    }
    devices
}

/// How a method of struct `self_ty` is found among the device functions (no Rust name can
/// collide with it).
pub(super) fn method_key(self_ty: &str, method: &str) -> String {
    format!("{self_ty}::{method}")
}

/// Parameter and result types of a device function; a method's `self` is its struct or enum.
pub(super) fn signature(
    f: &syn::ItemFn,
    self_ty: Option<&String>,
    enums: &BTreeMap<String, EnumDef>,
    diags: &mut Diagnostics,
) -> (Vec<Ty>, Ty) {
    let own = self_ty.map(|name| named_type(name, enums));
    let written = |ty: &syn::Type, diags: &mut Diagnostics| {
        value_type(ty, enums, diags).map(|t| resolve_self(t, own.as_ref())).unwrap_or(Ty::Unit)
    };
    let params = f
        .sig
        .inputs
        .iter()
        .map(|arg| match (arg, self_ty) {
            (syn::FnArg::Typed(t), _) => written(&t.ty, diags),
            (syn::FnArg::Receiver(_), Some(name)) => named_type(name, enums),
            (syn::FnArg::Receiver(r), None) => {
                diags.push(
                    Diagnostic::new(at(r), "device functions cannot take `self`")
                        .help("make it a method: `impl MyStruct { #[device] fn f(&self) .. }`"),
                );
                Ty::Unit
            }
        })
        .collect();
    let ret = match &f.sig.output {
        syn::ReturnType::Default => Ty::Unit,
        syn::ReturnType::Type(_, ty) => written(ty, diags),
    };
    (params, ret)
}
