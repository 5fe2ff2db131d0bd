//! The front end: Rust source text (syn) → IR.
//!
//! [`parse_source`] finds the items the DSL cares about; `lower` turns each handler and
//! device function body into IR, inferring types as rustc would. Everything outside the DSL
//! becomes a [`Diagnostic`] with a span and a help line; the front end never panics.

pub(crate) mod infer;
mod lower;
pub mod syntax;
pub mod types;

use proc_macro2::Span as PmSpan;
use syn::spanned::Spanned;

use crate::artifact::{ActorSettings, ArtifactKind};
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::ir::Span;
use crate::layout::{EnumDef, StructDef};

pub(crate) use lower::lower_module;

/// Converts a syn span into a 1-based line and column.
pub(crate) fn span_of(span: PmSpan) -> Span {
    let start = span.start();
    Span { line: start.line as u32, column: start.column as u32 + 1 }
}

pub(crate) fn at(node: &impl Spanned) -> Span {
    span_of(node.span())
}

/// Attribute arguments of a handler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelAttrs {
    /// Kernel or rule.
    pub kind: ArtifactKind,
    /// `id = "..."`.
    pub id: String,
    /// `version = N` (1 for kernels).
    pub version: u64,
    /// `compute_cap = "..."` when given.
    pub compute_cap: Option<String>,
    /// `depends_on = [...]`.
    pub depends_on: Vec<String>,
    /// Launch settings.
    pub actor: ActorSettings,
    /// `fast_math`: the handler body's `f32` `exp ln sin cos` use the GPU's `.approx`
    /// instructions instead of the math library (faster; CPU and GPU differ in the last bits).
    pub fast_math: bool,
    /// `max_steps = N`: loop iterations the handler may run per message before the message is
    /// aborted with `BUDGET_EXHAUSTED` (default [`crate::abi::DEFAULT_MAX_STEPS`]).
    pub max_steps: u32,
}

/// The DSL items of one source text.
pub(crate) struct SourceItems {
    pub structs: Vec<StructDef>,
    pub struct_spans: Vec<Span>,
    /// `#[derive(RingMessage)]` enums, by name.
    pub enums: std::collections::BTreeMap<String, EnumDef>,
    pub handlers: Vec<(KernelAttrs, syn::ItemFn)>,
    pub devices: Vec<syn::ItemFn>,
    /// `#[device]` methods in `impl Struct { .. }` blocks: the struct's name and the method.
    pub methods: Vec<(String, syn::ItemFn)>,
    /// `const` items at module level (and in inline modules), by name.
    pub consts: Vec<syn::ItemConst>,
}

fn attr_name(attr: &syn::Attribute) -> Option<String> {
    attr.path().segments.last().map(|s| s.ident.to_string())
}

fn derives_ring_message(attr: &syn::Attribute) -> bool {
    if !attr.path().is_ident("derive") {
        return false;
    }
    let mut found = false;
    let _ = attr.parse_nested_meta(|meta| {
        if meta.path.segments.last().is_some_and(|s| s.ident == "RingMessage") {
            found = true;
        }
        Ok(())
    });
    found
}

fn is_repr_c(attr: &syn::Attribute) -> bool {
    if !attr.path().is_ident("repr") {
        return false;
    }
    let mut c = false;
    let _ = attr.parse_nested_meta(|meta| {
        if meta.path.is_ident("C") {
            c = true;
        }
        Ok(())
    });
    c
}

/// Finds the DSL items of `file`.
pub(crate) fn collect_items(file: &syn::File, diags: &mut Diagnostics) -> SourceItems {
    let mut items = SourceItems {
        structs: Vec::new(),
        struct_spans: Vec::new(),
        enums: std::collections::BTreeMap::new(),
        handlers: Vec::new(),
        devices: Vec::new(),
        methods: Vec::new(),
        consts: Vec::new(),
    };
    let mut visit = |item: &syn::Item, diags: &mut Diagnostics| match item {
        syn::Item::Struct(s) if s.attrs.iter().any(derives_ring_message) => {
            if !s.attrs.iter().any(is_repr_c) {
                diags.push(
                    Diagnostic::new(
                        at(&s.ident),
                        format!("`{}` derives RingMessage but is not `#[repr(C)]`", s.ident),
                    )
                    .help("add `#[repr(C)]` so that the CPU and the GPU agree on its layout"),
                );
            }
            if !s.generics.params.is_empty() {
                diags.push(
                    Diagnostic::new(at(&s.generics), "RingMessage structs cannot be generic")
                        .help("use concrete field types"),
                );
            }
            if let Some(def) = types::struct_def(s, diags) {
                items.struct_spans.push(at(&s.ident));
                items.structs.push(def);
            }
        }
        syn::Item::Enum(e) if e.attrs.iter().any(derives_ring_message) => {
            if let Some(def) = types::enum_def(e, diags) {
                if items.enums.contains_key(&def.name) {
                    diags.push(Diagnostic::new(
                        at(&e.ident),
                        format!("enum `{}` is defined twice", def.name),
                    ));
                } else {
                    items.enums.insert(def.name.clone(), def);
                }
            }
        }
        syn::Item::Const(c) => items.consts.push(c.clone()),
        syn::Item::Impl(block) if block.trait_.is_none() => {
            let self_ty = match &*block.self_ty {
                syn::Type::Path(p) => p.path.get_ident().map(|i| i.to_string()),
                _ => None,
            };
            for item in &block.items {
                let syn::ImplItem::Fn(method) = item else { continue };
                if !method.attrs.iter().any(|a| attr_name(a).as_deref() == Some("device")) {
                    continue;
                }
                let Some(self_ty) = &self_ty else {
                    diags.push(
                        Diagnostic::new(
                            at(&block.self_ty),
                            "`#[device]` methods belong to a `#[derive(RingMessage)]` struct",
                        )
                        .help("write `impl MyStruct { #[device] fn .. }`"),
                    );
                    continue;
                };
                let f = syn::ItemFn {
                    attrs: method.attrs.clone(),
                    vis: method.vis.clone(),
                    sig: method.sig.clone(),
                    block: Box::new(method.block.clone()),
                };
                items.methods.push((self_ty.clone(), f));
            }
        }
        syn::Item::Fn(f) => {
            for attr in &f.attrs {
                match attr_name(attr).as_deref() {
                    Some(kind @ ("ring_kernel" | "rule")) => {
                        if let Some(attrs) = parse_kernel_attrs(attr, kind == "rule", diags) {
                            items.handlers.push((attrs, f.clone()));
                        }
                    }
                    Some("device") => items.devices.push(f.clone()),
                    _ => {}
                }
            }
        }
        _ => {}
    };
    for item in &file.items {
        match item {
            // Inline modules are searched too (handlers often live in `mod kernels { ... }`).
            syn::Item::Mod(m) => {
                for inner in m.content.iter().flat_map(|(_, items)| items) {
                    visit(inner, diags);
                }
            }
            other => visit(other, diags),
        }
    }
    // Field types name enums and structs alike; now that every enum is known, say which.
    for def in &mut items.structs {
        for (_, ty) in &mut def.fields {
            *ty = ty.clone().resolve_enums(&items.enums);
        }
    }
    items
}

const KERNEL_KEYS: &str = "`id`, `version`, `compute_cap`, `depends_on`, `queue_capacity`, `block_size`, `grid_size`, `shared_memory_bytes`, `idle_backoff_ns`, `fast_math`, `max_steps`";

/// Parses the arguments of `#[ring_kernel(...)]` (`is_rule == false`) or `#[rule(...)]`;
/// shared with the proc macros, so both report the same errors with the same spans.
/// `attr_span` is where to point when something is missing.
pub fn parse_kernel_args(
    tokens: proc_macro2::TokenStream,
    is_rule: bool,
    attr_span: PmSpan,
) -> Result<KernelAttrs, syn::Error> {
    use syn::parse::Parser;
    let kind = if is_rule { ArtifactKind::Rule } else { ArtifactKind::RingKernel };
    let mut attrs = KernelAttrs {
        kind,
        id: String::new(),
        version: 1,
        compute_cap: None,
        depends_on: Vec::new(),
        actor: ActorSettings::default(),
        fast_math: false,
        max_steps: crate::abi::DEFAULT_MAX_STEPS,
    };
    let mut seen: Vec<String> = Vec::new();
    let name = if is_rule { "rule" } else { "ring_kernel" };
    let parser = syn::meta::parser(|meta| {
        let key = meta.path.get_ident().map(|i| i.to_string()).unwrap_or_default();
        if seen.contains(&key) {
            return Err(meta.error(format!("duplicate `{name}` argument `{key}`")));
        }
        seen.push(key.clone());
        let u32_value = |meta: &syn::meta::ParseNestedMeta| -> syn::Result<u32> {
            let lit: syn::LitInt = meta.value()?.parse()?;
            lit.base10_parse()
        };
        match key.as_str() {
            "id" => {
                let lit: syn::LitStr = meta.value()?.parse()?;
                let id = lit.value();
                let ok = !id.is_empty()
                    && id.len() <= 128
                    && id
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
                if !ok {
                    return Err(syn::Error::new(
                        lit.span(),
                        "`id` must be 1 to 128 characters of letters, digits, `_`, `-` and `.`",
                    ));
                }
                attrs.id = id;
            }
            "version" if is_rule => {
                let lit: syn::LitInt = meta.value()?.parse()?;
                attrs.version = lit.base10_parse().map_err(|_| {
                    syn::Error::new(lit.span(), "`version` must be a whole number (u64)")
                })?;
            }
            "compute_cap" => {
                let lit: syn::LitStr = meta.value()?.parse()?;
                crate::back::ptx::isa_version(&lit.value())
                    .map_err(|e| syn::Error::new(lit.span(), e))?;
                attrs.compute_cap = Some(lit.value());
            }
            "depends_on" if is_rule => {
                let list: syn::ExprArray = meta.value()?.parse()?;
                let mut deps = Vec::new();
                for elem in &list.elems {
                    match elem {
                        syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) => {
                            deps.push(s.value())
                        }
                        other => {
                            return Err(syn::Error::new_spanned(
                                other,
                                "`depends_on` lists rule ids as strings",
                            ));
                        }
                    }
                }
                attrs.depends_on = deps;
            }
            "queue_capacity" => {
                let value = u32_value(&meta)?;
                if value < 2 || !value.is_power_of_two() {
                    return Err(meta.error("`queue_capacity` must be a power of two of at least 2"));
                }
                attrs.actor.queue_capacity = value;
            }
            "block_size" => attrs.actor.block_size = u32_value(&meta)?,
            "grid_size" => attrs.actor.grid_size = u32_value(&meta)?,
            "shared_memory_bytes" => attrs.actor.shared_memory_bytes = u32_value(&meta)?,
            "idle_backoff_ns" => attrs.actor.idle_backoff_ns = u32_value(&meta)?,
            "max_steps" => {
                let lit: syn::LitInt = meta.value()?.parse()?;
                attrs.max_steps = match lit.base10_parse::<u32>() {
                    Ok(n) if n > 0 => n,
                    _ => {
                        return Err(syn::Error::new(
                            lit.span(),
                            "`max_steps` must be a whole number from 1 to 4294967295 (loop iterations per message)",
                        ));
                    }
                };
            }
            "fast_math" => {
                attrs.fast_math = if meta.input.peek(syn::Token![=]) {
                    meta.value()?.parse::<syn::LitBool>()?.value
                } else {
                    true
                };
            }
            "version" | "depends_on" => {
                return Err(meta.error(format!(
                    "`{key}` belongs to `#[rule]`; a `#[ring_kernel]` has no versions"
                )));
            }
            _ => {
                let help = format!(
                    "write `#[{name}(id = \"...\"{})]`",
                    if is_rule { ", version = N" } else { "" }
                );
                return Err(meta.error(with_help(
                    format!("unknown `{name}` argument `{key}`; valid: {KERNEL_KEYS}"),
                    &help,
                )));
            }
        }
        Ok(())
    });
    parser.parse2(tokens)?;
    if attrs.id.is_empty() {
        return Err(syn::Error::new(
            attr_span,
            with_help(
                format!("`#[{name}]` needs an `id`"),
                &format!("write `#[{name}(id = \"my-kernel\", ...)]`"),
            ),
        ));
    }
    if is_rule && !seen.iter().any(|k| k == "version") {
        return Err(syn::Error::new(
            attr_span,
            with_help(
                "`#[rule]` needs a `version`".into(),
                "write `version = 1` (and raise it for every new release)",
            ),
        ));
    }
    Ok(attrs)
}

/// An error message with a help line, in the form rustc prints for proc-macro errors; the
/// build-time front end splits it back into a diagnostic's message and help.
pub fn with_help(message: String, help: &str) -> String {
    format!("{message}\n  = help: {help}")
}

fn parse_kernel_attrs(
    attr: &syn::Attribute,
    is_rule: bool,
    diags: &mut Diagnostics,
) -> Option<KernelAttrs> {
    let tokens = match &attr.meta {
        syn::Meta::List(list) => list.tokens.clone(),
        _ => proc_macro2::TokenStream::new(),
    };
    match parse_kernel_args(tokens, is_rule, attr.span()) {
        Ok(attrs) => Some(attrs),
        Err(err) => {
            for e in err {
                let text = e.to_string();
                let diagnostic = match text.split_once("\n  = help: ") {
                    Some((message, help)) => Diagnostic::new(span_of(e.span()), message).help(help),
                    None => Diagnostic::new(span_of(e.span()), text),
                };
                diags.push(diagnostic);
            }
            None
        }
    }
}
