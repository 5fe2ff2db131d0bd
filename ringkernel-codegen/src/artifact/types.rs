//! The `types:` line of an artifact: the full Rust types of the message, the response and
//! the state (field types, nested structs, arrays, enum variants), which the layout lines
//! (names, offsets, sizes) do not say. Tools that read and write messages without the Rust
//! program (`ringkernel run`) need it. Optional: an artifact without it is still loadable.
//!
//! ```text
//! // types: message=Order{seq:u64,qty:u32,side:Side(u8){Buy=1,Sell=2}} response=f32 state=none
//! ```
//!
//! One description per type, without spaces: a scalar (`u32`, `f64`, `bool`, ...), an array
//! `[T;N]`, a struct `Name{field:T,...}` or a fieldless enum `Name(repr){Variant=value,...}`.

use std::fmt;

/// A Rust type as an artifact's `types:` line describes it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TypeDesc {
    /// A scalar, by its Rust name.
    Scalar(String),
    /// `[T; N]`.
    Array(Box<TypeDesc>, u32),
    /// A `#[repr(C)]` struct: name and fields in order.
    Struct(String, Vec<(String, TypeDesc)>),
    /// A fieldless enum: name, representation and variants.
    Enum(String, String, Vec<(String, i128)>),
}

/// The three types of an artifact's handler.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ArtifactTypes {
    /// The message.
    pub message: TypeDesc,
    /// The response.
    pub response: TypeDesc,
    /// The state, when the handler has one.
    pub state: Option<TypeDesc>,
}

/// Bytes and alignment of a scalar's Rust name.
fn scalar_size(name: &str) -> Option<u32> {
    if name == "()" {
        return Some(0);
    }
    crate::layout::Scalar::from_name(name).map(crate::layout::Scalar::size)
}

impl TypeDesc {
    /// Size and alignment under `#[repr(C)]` (as rustc lays it out).
    pub fn size_align(&self) -> (u32, u32) {
        match self {
            TypeDesc::Scalar(name) | TypeDesc::Enum(_, name, _) => {
                let size = scalar_size(name).unwrap_or(0);
                (size, size.max(1))
            }
            TypeDesc::Array(elem, n) => {
                let (size, align) = elem.size_align();
                (size.saturating_mul(*n), align)
            }
            TypeDesc::Struct(_, fields) => {
                let (mut offset, mut align) = (0u32, 1u32);
                for (_, ty) in fields {
                    let (size, field_align) = ty.size_align();
                    offset = offset.next_multiple_of(field_align) + size;
                    align = align.max(field_align);
                }
                (offset.next_multiple_of(align), align)
            }
        }
    }

    /// The fields of a struct with their byte offsets.
    pub fn field_offsets(&self) -> Vec<(&str, u32, &TypeDesc)> {
        let TypeDesc::Struct(_, fields) = self else { return Vec::new() };
        let mut offset = 0u32;
        let mut out = Vec::new();
        for (name, ty) in fields {
            let (size, align) = ty.size_align();
            offset = offset.next_multiple_of(align);
            out.push((name.as_str(), offset, ty));
            offset += size;
        }
        out
    }

    /// Reads a description; the error says what was expected where.
    pub fn parse(text: &str) -> Result<TypeDesc, String> {
        let mut parser = Parser { text, at: 0 };
        let ty = parser.ty(0)?;
        if parser.at != text.len() {
            return Err(format!("unexpected `{}` after the type", &text[parser.at..]));
        }
        Ok(ty)
    }
}

impl fmt::Display for TypeDesc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TypeDesc::Scalar(name) => f.write_str(name),
            TypeDesc::Array(elem, n) => write!(f, "[{elem};{n}]"),
            TypeDesc::Struct(name, fields) => {
                write!(f, "{name}{{")?;
                for (i, (field, ty)) in fields.iter().enumerate() {
                    write!(f, "{}{field}:{ty}", if i > 0 { "," } else { "" })?;
                }
                f.write_str("}")
            }
            TypeDesc::Enum(name, repr, variants) => {
                write!(f, "{name}({repr}){{")?;
                for (i, (variant, value)) in variants.iter().enumerate() {
                    write!(f, "{}{variant}={value}", if i > 0 { "," } else { "" })?;
                }
                f.write_str("}")
            }
        }
    }
}

impl TypeDesc {
    /// The layout line this type gets in an artifact (as the compiler writes it).
    pub fn layout_record(&self) -> super::LayoutRecord {
        let (size, align) = self.size_align();
        let name = match self {
            TypeDesc::Scalar(name) if name == "()" => "unit".to_owned(),
            TypeDesc::Scalar(name) | TypeDesc::Struct(name, _) | TypeDesc::Enum(name, _, _) => {
                name.clone()
            }
            TypeDesc::Array(..) => "array".to_owned(),
        };
        let fields = self
            .field_offsets()
            .into_iter()
            .map(|(field, offset, ty)| (field.to_owned(), offset, ty.size_align().0))
            .collect();
        super::LayoutRecord { name, size, align, fields }
    }
}

impl ArtifactTypes {
    /// The metadata an artifact with these types gets from the compiler (layouts, ABI hash),
    /// as a rule with default actor settings, no dependencies and placeholder entries and
    /// hashes, for [`super::Artifact::wrap`] to complete.
    pub fn metadata(&self) -> super::ArtifactMetadata {
        let (message, response) = (self.message.layout_record(), self.response.layout_record());
        let state = self.state.as_ref().map(TypeDesc::layout_record);
        let abi_hash = crate::abi::abi_hash(
            &message.to_text(),
            &response.to_text(),
            state.as_ref().map(super::LayoutRecord::to_text).as_deref(),
        );
        super::ArtifactMetadata {
            kind: super::ArtifactKind::Rule,
            compute_cap: "sm_70".into(),
            depends_on: Vec::new(),
            actor: super::ActorSettings::default(),
            entries: super::EntryPoints {
                persistent: "unset_persistent".into(),
                batch: "unset_batch".into(),
                handler: "unset_handler".into(),
            },
            message,
            response,
            state,
            abi_version: crate::abi::ABI_VERSION,
            abi_hash,
            source_hash: "00".into(),
            compiler: "unset".into(),
            types: Some(self.clone()),
        }
    }

    /// `message=.. response=.. state=..|none`.
    pub fn to_text(&self) -> String {
        let state = self.state.as_ref().map_or_else(|| "none".to_owned(), ToString::to_string);
        format!("message={} response={} state={state}", self.message, self.response)
    }

    /// Reads `message=.. response=.. state=..|none`.
    pub fn parse(text: &str) -> Result<ArtifactTypes, String> {
        let mut parts = text.split(' ');
        let mut next = |key: &str| {
            parts
                .next()
                .and_then(|p| p.strip_prefix(key)?.strip_prefix('='))
                .ok_or_else(|| format!("expected `{key}=<type>`"))
        };
        let message = TypeDesc::parse(next("message")?)?;
        let response = TypeDesc::parse(next("response")?)?;
        let state = match next("state")? {
            "none" => None,
            other => Some(TypeDesc::parse(other)?),
        };
        if parts.next().is_some() {
            return Err("unexpected text after `state=`".into());
        }
        Ok(ArtifactTypes { message, response, state })
    }
}

struct Parser<'a> {
    text: &'a str,
    at: usize,
}

impl Parser<'_> {
    fn rest(&self) -> &str {
        &self.text[self.at..]
    }

    fn eat(&mut self, token: &str) -> bool {
        let found = self.rest().starts_with(token);
        if found {
            self.at += token.len();
        }
        found
    }

    fn expect(&mut self, token: &str) -> Result<(), String> {
        if self.eat(token) {
            Ok(())
        } else {
            Err(format!("expected `{token}` at `{}`", self.rest()))
        }
    }

    fn word(&mut self) -> Result<&str, String> {
        let len = self
            .rest()
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(self.rest().len());
        if len == 0 {
            return Err(format!("expected a name at `{}`", self.rest()));
        }
        let start = self.at;
        self.at += len;
        Ok(&self.text[start..start + len])
    }

    fn ty(&mut self, depth: u32) -> Result<TypeDesc, String> {
        if depth > 32 {
            return Err("types nest deeper than 32 levels".into());
        }
        if self.eat("[") {
            let elem = self.ty(depth + 1)?;
            self.expect(";")?;
            let n = self.word()?.parse().map_err(|_| "an array length is a number".to_owned())?;
            self.expect("]")?;
            return Ok(TypeDesc::Array(Box::new(elem), n));
        }
        let name = self.word()?.to_owned();
        if self.eat("(") {
            let repr = self.word()?.to_owned();
            if !matches!(repr.as_str(), "u8" | "i8" | "u16" | "i16" | "u32" | "i32" | "u64" | "i64")
            {
                return Err(format!("`{repr}` is not an integer representation"));
            }
            self.expect("){")?;
            let mut variants = Vec::new();
            while !self.eat("}") {
                if !variants.is_empty() {
                    self.expect(",")?;
                }
                let variant = self.word()?.to_owned();
                self.expect("=")?;
                let negative = self.eat("-");
                let value: i128 =
                    self.word()?.parse().map_err(|_| "a discriminant is a number".to_owned())?;
                variants.push((variant, if negative { -value } else { value }));
            }
            if variants.is_empty() {
                return Err(format!("enum `{name}` has no variants"));
            }
            return Ok(TypeDesc::Enum(name, repr, variants));
        }
        if self.eat("{") {
            let mut fields = Vec::new();
            while !self.eat("}") {
                if !fields.is_empty() {
                    self.expect(",")?;
                }
                let field = self.word()?.to_owned();
                self.expect(":")?;
                fields.push((field, self.ty(depth + 1)?));
            }
            return Ok(TypeDesc::Struct(name, fields));
        }
        if scalar_size(&name).is_none() {
            return Err(format!(
                "`{name}` is not a scalar type (a struct lists its fields: `{name}{{a:u32}}`)"
            ));
        }
        Ok(TypeDesc::Scalar(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_round_trip_and_lay_out_like_repr_c() {
        let text =
            "Order{seq:u64,qty:u32,side:Side(u8){Buy=1,Sell=-2},hist:[f32;3],inner:In{a:u8,b:f64}}";
        let ty = TypeDesc::parse(text).unwrap();
        assert_eq!(ty.to_string(), text);
        let offsets: Vec<(&str, u32)> =
            ty.field_offsets().iter().map(|(n, o, _)| (*n, *o)).collect();
        assert_eq!(offsets, [("seq", 0), ("qty", 8), ("side", 12), ("hist", 16), ("inner", 32)]);
        assert_eq!(ty.size_align(), (48, 8));
        let all =
            ArtifactTypes { message: ty, response: TypeDesc::Scalar("f32".into()), state: None };
        assert_eq!(ArtifactTypes::parse(&all.to_text()), Ok(all));
        for bad in ["", "Vec", "[u8;x]", "E(f32){A=1}", "E(u8){}", "S{a:u32", "u32 extra", "S{a}"] {
            assert!(TypeDesc::parse(bad).is_err(), "{bad}");
        }
        let deep = format!("{}u8{}", "[".repeat(40), ";1]".repeat(40));
        assert!(TypeDesc::parse(&deep).is_err());
    }
}
