//! Fieldless enums in expressions: `Op::Add` (and `Self::Add` in the enum's own methods) is a
//! constant of the enum's type holding the variant's discriminant.

use crate::ir::*;
use crate::layout::EnumDef;

use super::{Lowerer, Var};

impl Lowerer<'_> {
    /// The enum and discriminant a path names (`Op::Add`, `crate::Op::Add`, `Self::Add`);
    /// `None`, with an error, when it names an enum but no variant of it, or no enum.
    pub(super) fn enum_variant(&mut self, path: &syn::Path, span: Span) -> Option<(EnumDef, i128)> {
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        let [.., owner, variant] = segments.as_slice() else {
            self.error(
                span,
                "expected a variant: `Enum::Variant`",
                "name the enum and the variant",
            );
            return None;
        };
        let def = if owner == "Self" {
            self.self_ty.as_ref().and_then(Ty::enum_name).and_then(|name| self.enums.get(name))
        } else {
            self.enums.get(owner)
        };
        let Some(def) = def.cloned() else {
            self.error(
                span,
                format!("`{owner}` is not a #[derive(RingMessage)] enum in this source"),
                "define it with `#[derive(RingMessage)] #[repr(u8)] enum Name { A, B }`",
            );
            return None;
        };
        let Some(value) = def.discriminant(variant) else {
            let names: Vec<&str> = def.variants.iter().map(|(n, _)| n.as_str()).collect();
            self.error(
                span,
                format!("no variant `{variant}` in enum `{}`", def.name),
                format!("its variants: {}", names.join(", ")),
            );
            return None;
        };
        Some((def, value))
    }

    /// Whether a path of two or more segments could name an enum variant.
    pub(super) fn names_enum(&self, path: &syn::Path) -> bool {
        let n = path.segments.len();
        if n < 2 {
            return false;
        }
        let owner = path.segments[n - 2].ident.to_string();
        if owner == "Self" {
            return self.self_ty.as_ref().is_some_and(|t| t.enum_name().is_some());
        }
        self.enums.contains_key(&owner)
    }

    /// `Op::Add` as a value.
    pub(super) fn variant_value(&mut self, path: &syn::Path, span: Span) -> Option<(ExprId, Var)> {
        let (def, value) = self.enum_variant(path, span)?;
        let var = self.table.known(&Ty::Enum(def.name.clone(), def.repr));
        Some(self.node(ExprKind::Const(Const::Int(value as u64)), var, span))
    }
}
