//! `compile_source`: one Rust source text → one artifact per handler.

use sha2::{Digest, Sha256};

use crate::abi::{ABI_VERSION, abi_hash};
use crate::artifact::{
    Artifact, ArtifactMetadata, ArtifactTypes, EntryPoints, LayoutRecord, TypeDesc,
};
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::ir::{FnRole, Module, Ty};
use crate::layout::compute_layouts;

/// Compiler options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Target for handlers whose attribute names none (`sm_70` by default).
    pub compute_cap: String,
    /// File name used in diagnostics.
    pub file_name: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Self { compute_cap: "sm_70".into(), file_name: None }
    }
}

/// Compiles every `#[ring_kernel]` / `#[rule]` handler of `src`, with the
/// `#[derive(RingMessage)]` structs and `#[device]` helpers of the same text.
///
/// ```
/// use ringkernel_codegen::{compile_source, Options};
/// let src = r#"
///     #[ring_kernel(id = "doubler")]
///     fn double(ctx: &mut RingContext, x: u32) -> u32 { x.wrapping_mul(2) }
/// "#;
/// let artifacts = compile_source(src, &Options::default()).unwrap();
/// assert_eq!(artifacts[0].id, "doubler");
/// assert!(artifacts[0].ptx.contains(".entry double_persistent"));
/// ```
pub fn compile_source(src: &str, opts: &Options) -> Result<Vec<Artifact>, Diagnostics> {
    let mut diags = Diagnostics::new();
    if let Some(file) = &opts.file_name {
        diags = diags.in_file(file.clone());
    }
    let file = match syn::parse_file(src) {
        Ok(file) => file,
        Err(err) => {
            diags.push(
                Diagnostic::new(
                    crate::front::span_of(err.span()),
                    format!("this is not valid Rust: {err}"),
                )
                .help("fix the syntax error first"),
            );
            return Err(diags);
        }
    };
    let items = crate::front::collect_items(&file, &mut diags);
    let structs = match compute_layouts(&items.structs) {
        Ok(layouts) => layouts,
        Err(err) => {
            let span = items.struct_spans.first().copied().unwrap_or_default();
            diags.push(Diagnostic::new(span, err.to_string()).help("message fields must be DSL scalars, fixed arrays or other RingMessage structs of this source"));
            return Err(diags);
        }
    };
    let (module, handlers) = crate::front::lower_module(&items, structs, &mut diags);
    // The checker runs on a module that lowered cleanly: what failed to lower (a rejected
    // `let` initialiser, say) would otherwise come back as follow-up errors ("used before it
    // is assigned") about code that is fine.
    if diags.is_empty() {
        for d in crate::check::check_module(&module) {
            diags.push(d);
        }
    }
    if !diags.is_empty() {
        diags.items.sort_by_key(|d| d.span);
        return Err(diags);
    }
    let source_hash: String =
        Sha256::digest(src.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
    let mut artifacts = Vec::new();
    for (attrs, id) in handlers {
        let f = module.function(id);
        let compute_cap = attrs.compute_cap.clone().unwrap_or_else(|| opts.compute_cap.clone());
        let ptx = match crate::back::ptx::write_handler(
            &module,
            id,
            &compute_cap,
            &attrs.id,
            attrs.version,
            attrs.actor.idle_backoff_ns,
            attrs.max_steps,
        ) {
            Ok(ptx) => ptx,
            Err(message) => {
                diags.push(
                    Diagnostic::new(f.span, message).help("targets are sm_70 to sm_121; per-thread arrays and temporaries must fit in 512 KiB"),
                );
                continue;
            }
        };
        let FnRole::Handler { state, message } = &f.role else { continue };
        let (state_local, message_local) = (*state, message);
        let record = |ty: &Ty| layout_record(&module, ty);
        let (message, response) = (record(&f.local(*message).ty), record(&f.ret));
        let state = state.map(|s| record(&f.local(s).ty));
        let hash = abi_hash(
            &message.to_text(),
            &response.to_text(),
            state.as_ref().map(LayoutRecord::to_text).as_deref(),
        );
        artifacts.push(Artifact {
            id: attrs.id.clone(),
            version: attrs.version,
            ptx,
            metadata: ArtifactMetadata {
                kind: attrs.kind,
                compute_cap,
                depends_on: attrs.depends_on.clone(),
                actor: attrs.actor,
                entries: EntryPoints {
                    persistent: format!("{}_persistent", f.name),
                    batch: format!("{}_batch", f.name),
                    handler: format!("{}_handler", f.name),
                },
                message,
                response,
                state,
                abi_version: ABI_VERSION,
                abi_hash: hash,
                source_hash: source_hash.clone(),
                compiler: format!("ringkernel-codegen {}", crate::COMPILER_VERSION),
                types: Some(ArtifactTypes {
                    message: type_desc(&module, &f.local(*message_local).ty),
                    response: type_desc(&module, &f.ret),
                    state: state_local.map(|s| type_desc(&module, &f.local(s).ty)),
                }),
            },
            signature: None,
        });
    }
    if diags.is_empty() { Ok(artifacts) } else { Err(diags) }
}

fn layout_record(module: &Module, ty: &Ty) -> LayoutRecord {
    match ty {
        Ty::Struct(name) => module
            .structs
            .get(name)
            .map(LayoutRecord::from)
            .unwrap_or(LayoutRecord { name: name.clone(), size: 0, align: 1, fields: vec![] }),
        Ty::Scalar(s) => {
            LayoutRecord { name: s.name().into(), size: s.size(), align: s.size(), fields: vec![] }
        }
        Ty::Enum(name, s) => {
            LayoutRecord { name: name.clone(), size: s.size(), align: s.size(), fields: vec![] }
        }
        Ty::Unit | Ty::Tuple(_) => {
            LayoutRecord { name: "unit".into(), size: 0, align: 1, fields: vec![] }
        }
        Ty::Array(..) => LayoutRecord { name: "array".into(), size: 0, align: 1, fields: vec![] },
    }
}

/// The full description of `ty` for the artifact's `types:` line.
fn type_desc(module: &Module, ty: &Ty) -> TypeDesc {
    match ty {
        Ty::Unit => TypeDesc::Scalar("()".into()),
        Ty::Scalar(s) => TypeDesc::Scalar(s.name().into()),
        Ty::Array(elem, n) => TypeDesc::Array(Box::new(type_desc(module, elem)), *n),
        Ty::Enum(name, repr) => TypeDesc::Enum(
            name.clone(),
            repr.name().into(),
            module.enums.get(name).map(|d| d.variants.clone()).unwrap_or_default(),
        ),
        Ty::Struct(name) => TypeDesc::Struct(
            name.clone(),
            module
                .structs
                .get(name)
                .map(|l| {
                    l.fields
                        .iter()
                        .map(|f| (f.name.clone(), type_desc(module, &Ty::from(&f.ty))))
                        .collect()
                })
                .unwrap_or_default(),
        ),
        Ty::Tuple(_) => TypeDesc::Scalar("()".into()),
    }
}
