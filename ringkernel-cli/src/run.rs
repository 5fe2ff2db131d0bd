//! `ringkernel run`: an artifact's handler on messages given as JSON, in the PTX virtual
//! machine (the emulated backend's executor), one response per line as JSON. The state
//! starts zeroed, as a PTX-only artifact's does, and carries from message to message.
//!
//! JSON ↔ bytes follows the artifact's `types:` line: a struct is an object with exactly its
//! fields, an array a list of its length, an enum a variant name (or its discriminant), a
//! float a number or `"NaN"`, `"inf"`, `"-inf"`; a scalar message may be a bare number.

use std::path::Path;

use ringkernel_codegen::abi::{ControlBlock, offsets};
use ringkernel_codegen::artifact::TypeDesc;
use ringkernel_codegen::layout::Scalar;
use ringkernel_ptx::{Arg, Dims, Module, Vm};
use serde_json::{Value, json};

use crate::files::read_artifact;

/// The values of an integer type named `name`.
fn int_range(name: &str) -> Option<(i128, i128)> {
    Scalar::from_name(name).filter(|s| s.is_int()).map(Scalar::int_range)
}

fn int_of(value: &Value) -> Option<i128> {
    value.as_i64().map(i128::from).or_else(|| value.as_u64().map(i128::from))
}

/// Writes `value` as `ty` into `out` (exactly `ty`'s size); `at` names the place for errors.
fn encode(ty: &TypeDesc, value: &Value, out: &mut [u8], at: &str) -> Result<(), String> {
    match ty {
        TypeDesc::Scalar(name) if name == "bool" => {
            let b = value
                .as_bool()
                .or_else(|| int_of(value).filter(|v| *v == 0 || *v == 1).map(|v| v == 1));
            out[0] =
                u8::from(b.ok_or_else(|| format!("{at}: expected true or false, got {value}"))?);
        }
        TypeDesc::Scalar(name) if name == "f32" || name == "f64" => {
            let x = match value {
                Value::String(s) => match s.as_str() {
                    "NaN" | "nan" => f64::NAN,
                    "inf" | "+inf" | "infinity" => f64::INFINITY,
                    "-inf" | "-infinity" => f64::NEG_INFINITY,
                    _ => {
                        return Err(format!(
                            "{at}: expected a number, \"NaN\", \"inf\" or \"-inf\", got {value}"
                        ));
                    }
                },
                other => {
                    other.as_f64().ok_or_else(|| format!("{at}: expected a number, got {other}"))?
                }
            };
            if name == "f32" {
                out.copy_from_slice(&(x as f32).to_le_bytes());
            } else {
                out.copy_from_slice(&x.to_le_bytes());
            }
        }
        TypeDesc::Scalar(name) => {
            let (lo, hi) =
                int_range(name).ok_or_else(|| format!("{at}: `{name}` cannot be written"))?;
            let v = int_of(value).filter(|v| (lo..=hi).contains(v)).ok_or_else(|| {
                format!("{at}: expected an integer in {lo}..={hi} ({name}), got {value}")
            })?;
            out.copy_from_slice(&(v as u64).to_le_bytes()[..out.len()]);
        }
        TypeDesc::Enum(name, repr, variants) => {
            let discriminant = match value {
                Value::String(s) => variants.iter().find(|(v, _)| v == s).map(|(_, d)| *d),
                other => int_of(other).filter(|d| variants.iter().any(|(_, v)| v == d)),
            };
            let names: Vec<&str> = variants.iter().map(|(v, _)| v.as_str()).collect();
            let d = discriminant.ok_or_else(|| {
                format!("{at}: expected a variant of `{name}` ({}), got {value}", names.join(", "))
            })?;
            let _ = repr;
            out.copy_from_slice(&(d as u64).to_le_bytes()[..out.len()]);
        }
        TypeDesc::Array(elem, n) => {
            let items = value
                .as_array()
                .filter(|a| a.len() == *n as usize)
                .ok_or_else(|| format!("{at}: expected a list of {n}, got {value}"))?;
            let size = elem.size_align().0 as usize;
            for (i, item) in items.iter().enumerate() {
                encode(elem, item, &mut out[i * size..(i + 1) * size], &format!("{at}[{i}]"))?;
            }
        }
        TypeDesc::Struct(name, _) => {
            let object = value
                .as_object()
                .ok_or_else(|| format!("{at}: expected an object for `{name}`, got {value}"))?;
            let fields = ty.field_offsets();
            for key in object.keys() {
                if !fields.iter().any(|(f, _, _)| f == key) {
                    let names: Vec<&str> = fields.iter().map(|(f, _, _)| *f).collect();
                    return Err(format!(
                        "{at}: `{name}` has no field `{key}` (its fields: {})",
                        names.join(", ")
                    ));
                }
            }
            for (field, offset, fty) in fields {
                let item = object
                    .get(field)
                    .ok_or_else(|| format!("{at}: missing field `{field}` of `{name}`"))?;
                let (offset, size) = (offset as usize, fty.size_align().0 as usize);
                encode(fty, item, &mut out[offset..offset + size], &format!("{at}.{field}"))?;
            }
        }
    }
    Ok(())
}

/// A float as JSON: its shortest decimal form, or a string where JSON has no number.
fn float(x: f64, shortest: String) -> Value {
    if x.is_nan() {
        json!("NaN")
    } else if x.is_infinite() {
        json!(if x > 0.0 { "inf" } else { "-inf" })
    } else {
        serde_json::from_str(&shortest).unwrap_or(json!(x))
    }
}

fn decode(ty: &TypeDesc, bytes: &[u8]) -> Value {
    let mut raw = [0u8; 8];
    raw[..bytes.len().min(8)].copy_from_slice(&bytes[..bytes.len().min(8)]);
    let bits = u64::from_le_bytes(raw);
    let signed = |width: usize| ((bits << (64 - width)) as i64) >> (64 - width);
    match ty {
        TypeDesc::Scalar(name) => match name.as_str() {
            "bool" => json!(bits & 1 == 1),
            "f32" => {
                let x = f32::from_bits(bits as u32);
                float(f64::from(x), x.to_string())
            }
            "f64" => {
                let x = f64::from_bits(bits);
                float(x, x.to_string())
            }
            "()" => Value::Null,
            n if n.starts_with('i') => json!(signed(bytes.len() * 8)),
            _ => json!(bits),
        },
        TypeDesc::Enum(_, repr, variants) => {
            let value = if repr.starts_with('i') {
                i128::from(signed(bytes.len() * 8))
            } else {
                i128::from(bits)
            };
            match variants.iter().find(|(_, d)| *d == value) {
                Some((name, _)) => json!(name),
                None => json!(value as i64),
            }
        }
        TypeDesc::Array(elem, n) => {
            let size = elem.size_align().0 as usize;
            Value::Array(
                (0..*n as usize).map(|i| decode(elem, &bytes[i * size..(i + 1) * size])).collect(),
            )
        }
        TypeDesc::Struct(..) => {
            let mut object = serde_json::Map::new();
            for (field, offset, fty) in ty.field_offsets() {
                let (offset, size) = (offset as usize, fty.size_align().0 as usize);
                object.insert(field.to_owned(), decode(fty, &bytes[offset..offset + size]));
            }
            Value::Object(object)
        }
    }
}

/// Runs the artifact on `inputs`; prints one response per line. An error names the input.
pub fn run(path: &Path, backend: &str, inputs: &[String]) -> Result<Vec<Value>, String> {
    if backend != "emulated" {
        return Err(format!(
            "`--backend {backend}`: this command runs artifacts in the PTX virtual machine only (`--backend emulated`)"
        ));
    }
    let artifact = read_artifact(path)?;
    let m = &artifact.metadata;
    let types = m.types.as_ref().ok_or_else(|| {
        format!("{}: the artifact records no field types (no `types:` line; rebuild it with this ringkernel)", path.display())
    })?;
    let sizes = [
        (types.message.size_align().0, m.message.size, "message"),
        (types.response.size_align().0, m.response.size, "response"),
        (
            types.state.as_ref().map_or(0, |s| s.size_align().0),
            m.state.as_ref().map_or(0, |s| s.size),
            "state",
        ),
    ];
    for (described, laid_out, what) in sizes {
        if described != laid_out {
            return Err(format!(
                "{}: the {what} type is {described} bytes, its layout {laid_out}",
                path.display()
            ));
        }
    }
    let text = artifact.to_text();
    let module = Module::parse(&text)
        .map_err(|e| format!("{}: the VM cannot read its PTX: {e}", path.display()))?;
    let vm = Vm::new();
    vm.set_instruction_budget(Some(100_000_000));
    let control = size_of::<ControlBlock>();
    let (msg_size, resp_size, state_size) =
        (sizes[0].1 as usize, sizes[1].1 as usize, sizes[2].1 as usize);
    let alloc = |n: usize| vm.alloc(n.max(8)).map_err(|e| e.to_string());
    let (cb, state, msg, resp) =
        (alloc(control)?, alloc(state_size)?, alloc(msg_size)?, alloc(resp_size)?);
    let mut responses = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        let at = format!("input {}", i + 1);
        let value: Value =
            serde_json::from_str(input).map_err(|e| format!("{at}: not JSON: {e}"))?;
        let mut bytes = vec![0u8; msg_size];
        encode(&types.message, &value, &mut bytes, &at)?;
        vm.write(msg, &bytes).map_err(|e| e.to_string())?;
        vm.write(resp, &vec![0u8; resp_size]).map_err(|e| e.to_string())?;
        vm.write(cb, &vec![0u8; control]).map_err(|e| e.to_string())?;
        let args = [Arg::U64(cb), Arg::U64(state), Arg::U64(msg), Arg::U64(resp), Arg::U32(1)];
        vm.launch(&module, &m.entries.batch, Dims::linear(1, 1), &args)
            .map_err(|fault| format!("{at}: the kernel faulted: {fault}"))?;
        let mut out = vec![0u8; resp_size];
        vm.read(resp, &mut out).map_err(|e| e.to_string())?;
        let mut code = [0u8; 4];
        vm.read(cb + u64::from(offsets::CB_ERROR_CODE), &mut code).map_err(|e| e.to_string())?;
        let code = u32::from_le_bytes(code);
        let mut response = decode(&types.response, &out);
        if code != 0 {
            response = json!({ "response": response, "error_code": code });
        }
        responses.push(response);
    }
    Ok(responses)
}
