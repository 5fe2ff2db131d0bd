//! Layout of message, response and state types as the GPU sees them.
//!
//! Every type that crosses the host↔device boundary is `#[repr(C)]`, so its layout is fully
//! determined by its field types, exactly as rustc lays out `#[repr(C)]`: each field sits at
//! the next offset aligned to its own alignment, the struct's alignment is the largest field
//! alignment (1 for an empty struct), and the size is rounded up to that alignment. An array
//! `[T; N]` has T's alignment and `N * size_of::<T>()` bytes.
//!
//! Two representations:
//! - [`TypeLayout`]: `'static` and `const`-constructible, for `RingMessage::LAYOUT`;
//! - [`StructLayout`]: computed by [`compute_layouts`] from struct definitions read out of
//!   source, used by the compiler and written into artifacts.

use std::collections::BTreeMap;
use std::fmt;

/// One field of a [`TypeLayout`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FieldLayout {
    /// Field name as written in the Rust struct.
    pub name: &'static str,
    /// Byte offset from the start of the struct.
    pub offset: u32,
    /// Size of the field in bytes.
    pub size: u32,
}

/// Size, alignment and field offsets of a `#[repr(C)]` type, in `'static` form.
///
/// ```
/// use ringkernel_codegen::layout::TypeLayout;
/// const U32: TypeLayout = TypeLayout::scalar("u32", 4);
/// assert_eq!((U32.size, U32.align), (4, 4));
/// assert!(U32.fields.is_empty());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TypeLayout {
    /// Type name (the Rust path as written, for messages).
    pub name: &'static str,
    /// Size in bytes, a multiple of `align`.
    pub size: u32,
    /// Alignment in bytes, a power of two.
    pub align: u32,
    /// Fields in declaration order (empty for scalars).
    pub fields: &'static [FieldLayout],
}

impl TypeLayout {
    /// Layout of a scalar whose alignment equals its size (every DSL scalar).
    pub const fn scalar(name: &'static str, size: u32) -> Self {
        let align = if size == 0 { 1 } else { size };
        Self { name, size, align, fields: &[] }
    }
}

/// The scalar types of the DSL. `usize` and `isize` are 64-bit, as on every CUDA host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scalar {
    /// `bool`, one byte holding 0 or 1.
    Bool,
    /// `i8`.
    I8,
    /// `u8`.
    U8,
    /// `i16`.
    I16,
    /// `u16`.
    U16,
    /// `i32`.
    I32,
    /// `u32`.
    U32,
    /// `i64`.
    I64,
    /// `u64`.
    U64,
    /// `isize` (64-bit).
    Isize,
    /// `usize` (64-bit).
    Usize,
    /// `f32`.
    F32,
    /// `f64`.
    F64,
}

impl Scalar {
    /// Every scalar, in declaration order.
    pub const ALL: [Scalar; 13] = [
        Scalar::Bool,
        Scalar::I8,
        Scalar::U8,
        Scalar::I16,
        Scalar::U16,
        Scalar::I32,
        Scalar::U32,
        Scalar::I64,
        Scalar::U64,
        Scalar::Isize,
        Scalar::Usize,
        Scalar::F32,
        Scalar::F64,
    ];

    /// The Rust name.
    pub fn name(self) -> &'static str {
        match self {
            Scalar::Bool => "bool",
            Scalar::I8 => "i8",
            Scalar::U8 => "u8",
            Scalar::I16 => "i16",
            Scalar::U16 => "u16",
            Scalar::I32 => "i32",
            Scalar::U32 => "u32",
            Scalar::I64 => "i64",
            Scalar::U64 => "u64",
            Scalar::Isize => "isize",
            Scalar::Usize => "usize",
            Scalar::F32 => "f32",
            Scalar::F64 => "f64",
        }
    }

    /// Parses a Rust scalar name.
    pub fn from_name(name: &str) -> Option<Scalar> {
        Scalar::ALL.into_iter().find(|s| s.name() == name)
    }

    /// Size in bytes (equal to the alignment).
    pub fn size(self) -> u32 {
        match self {
            Scalar::Bool | Scalar::I8 | Scalar::U8 => 1,
            Scalar::I16 | Scalar::U16 => 2,
            Scalar::I32 | Scalar::U32 | Scalar::F32 => 4,
            Scalar::I64 | Scalar::U64 | Scalar::Isize | Scalar::Usize | Scalar::F64 => 8,
        }
    }

    /// The values of an integer type (or `bool`, 0 and 1) as an inclusive range; a float's
    /// is its bit pattern's as an integer of its width, which no caller wants.
    pub fn int_range(self) -> (i128, i128) {
        let w = self.size() * 8;
        match self {
            Scalar::Bool => (0, 1),
            s if s.is_signed_int() => (-(1i128 << (w - 1)), (1i128 << (w - 1)) - 1),
            _ => (0, (1i128 << w) - 1),
        }
    }

    /// Whether this is `f32` or `f64`.
    pub fn is_float(self) -> bool {
        matches!(self, Scalar::F32 | Scalar::F64)
    }

    /// Whether this is a signed integer.
    pub fn is_signed_int(self) -> bool {
        matches!(self, Scalar::I8 | Scalar::I16 | Scalar::I32 | Scalar::I64 | Scalar::Isize)
    }

    /// Whether this is an integer (signed or not; not `bool`).
    pub fn is_int(self) -> bool {
        !self.is_float() && self != Scalar::Bool
    }
}

/// A field type as written in a struct definition.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FieldType {
    /// A scalar.
    Scalar(Scalar),
    /// `[T; N]`.
    Array(Box<FieldType>, u32),
    /// Another `#[repr(C)]` struct, by name. (Written types name enums this way too, until
    /// the source's enums are known: [`resolve_enums`] turns those into `Enum`.)
    Struct(String),
    /// A fieldless `#[repr(int)]` enum, by name, with its representation.
    Enum(String, Scalar),
}

impl FieldType {
    /// This type with every `Struct` that names one of `enums` turned into `Enum`.
    pub fn resolve_enums(self, enums: &BTreeMap<String, EnumDef>) -> FieldType {
        match self {
            FieldType::Struct(name) => match enums.get(&name) {
                Some(def) => FieldType::Enum(name, def.repr),
                None => FieldType::Struct(name),
            },
            FieldType::Array(elem, len) => {
                FieldType::Array(Box::new(elem.resolve_enums(enums)), len)
            }
            other => other,
        }
    }
}

/// A fieldless enum that derives `RingMessage`: its integer representation and its variants
/// with their discriminants, in declaration order (at least one).
///
/// A value of the enum is its discriminant, stored as the representation. The first variant
/// is the enum's *zero value*: what an out-of-bounds read gives (as 0 is for integers), and
/// what a load gives, recording `abi::error::INVALID_VALUE`, when memory holds a number that
/// is no variant's discriminant (a message made outside Rust).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnumDef {
    /// Enum name.
    pub name: String,
    /// The `#[repr(..)]` integer.
    pub repr: Scalar,
    /// Variant names and discriminants, in declaration order.
    pub variants: Vec<(String, i128)>,
}

impl EnumDef {
    /// The discriminant of variant `name`.
    pub fn discriminant(&self, name: &str) -> Option<i128> {
        self.variants.iter().find(|(n, _)| n == name).map(|(_, d)| *d)
    }

    /// The zero value's discriminant (the first variant's).
    pub fn zero(&self) -> i128 {
        self.variants.first().map_or(0, |(_, d)| *d)
    }

    /// Whether `value` (a discriminant read as the representation) names a variant.
    pub fn is_variant(&self, value: i128) -> bool {
        self.variants.iter().any(|(_, d)| *d == value)
    }

    /// The variant whose discriminant is `value`.
    pub fn variant_of(&self, value: i128) -> Option<&str> {
        self.variants.iter().find(|(_, d)| *d == value).map(|(n, _)| n.as_str())
    }
}

impl fmt::Display for FieldType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldType::Scalar(s) => f.write_str(s.name()),
            FieldType::Array(elem, len) => write!(f, "[{elem}; {len}]"),
            FieldType::Struct(name) | FieldType::Enum(name, _) => f.write_str(name),
        }
    }
}

/// A struct definition: name and fields in declaration order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StructDef {
    /// Struct name.
    pub name: String,
    /// Fields in declaration order.
    pub fields: Vec<(String, FieldType)>,
}

/// A field of a computed [`StructLayout`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldSlot {
    /// Field name.
    pub name: String,
    /// Field type.
    pub ty: FieldType,
    /// Byte offset.
    pub offset: u32,
    /// Size in bytes.
    pub size: u32,
}

/// The computed layout of a struct.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StructLayout {
    /// Struct name.
    pub name: String,
    /// Size in bytes.
    pub size: u32,
    /// Alignment in bytes.
    pub align: u32,
    /// Fields in declaration order.
    pub fields: Vec<FieldSlot>,
}

impl StructLayout {
    /// The field called `name`.
    pub fn field(&self, name: &str) -> Option<&FieldSlot> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// Whether this layout equals a `'static` one (same size, alignment, field names,
    /// offsets and sizes).
    pub fn matches(&self, other: &TypeLayout) -> bool {
        self.size == other.size
            && self.align == other.align
            && self.fields.len() == other.fields.len()
            && self
                .fields
                .iter()
                .zip(other.fields)
                .all(|(a, b)| a.name == b.name && a.offset == b.offset && a.size == b.size)
    }

    /// Compact text form used in artifacts: `Name size=S align=A fields=a@0:4,b@8:8`.
    pub fn to_text(&self) -> String {
        let fields: Vec<String> =
            self.fields.iter().map(|f| format!("{}@{}:{}", f.name, f.offset, f.size)).collect();
        format!("{} size={} align={} fields={}", self.name, self.size, self.align, fields.join(","))
    }
}

/// Why layouts could not be computed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LayoutError {
    /// A field names a struct that is not defined.
    UnknownType {
        /// The struct holding the field.
        owner: String,
        /// The field.
        field: String,
        /// The unknown type name.
        ty: String,
    },
    /// A struct contains itself, directly or through other structs.
    Recursive {
        /// The chain of structs, ending with the repeated one.
        chain: Vec<String>,
    },
    /// Two structs with one name.
    Duplicate {
        /// The name.
        name: String,
    },
    /// A size beyond `u32::MAX` bytes.
    TooLarge {
        /// The struct.
        name: String,
    },
}

impl fmt::Display for LayoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LayoutError::UnknownType { owner, field, ty } => {
                write!(
                    f,
                    "field `{owner}.{field}` has type `{ty}`, which is not a DSL scalar or a RingMessage struct in this source"
                )
            }
            LayoutError::Recursive { chain } => {
                write!(f, "struct `{}` contains itself: {}", chain[0], chain.join(" -> "))
            }
            LayoutError::Duplicate { name } => write!(f, "struct `{name}` is defined twice"),
            LayoutError::TooLarge { name } => write!(f, "struct `{name}` is larger than 4 GiB"),
        }
    }
}

impl std::error::Error for LayoutError {}

/// Computes the layout of every struct in `defs`, resolving nested structs.
pub fn compute_layouts(defs: &[StructDef]) -> Result<BTreeMap<String, StructLayout>, LayoutError> {
    let mut by_name = BTreeMap::new();
    for def in defs {
        if by_name.insert(def.name.as_str(), def).is_some() {
            return Err(LayoutError::Duplicate { name: def.name.clone() });
        }
    }
    let mut done = BTreeMap::new();
    for def in defs {
        let mut chain = Vec::new();
        layout_of_struct(&def.name, &by_name, &mut done, &mut chain)?;
    }
    Ok(done)
}

fn layout_of_struct(
    name: &str,
    defs: &BTreeMap<&str, &StructDef>,
    done: &mut BTreeMap<String, StructLayout>,
    chain: &mut Vec<String>,
) -> Result<(u32, u32), LayoutError> {
    if let Some(layout) = done.get(name) {
        return Ok((layout.size, layout.align));
    }
    if chain.iter().any(|c| c == name) {
        let mut chain = chain.clone();
        chain.push(name.to_owned());
        let start = chain.iter().position(|c| c == name).unwrap_or(0);
        return Err(LayoutError::Recursive { chain: chain[start..].to_vec() });
    }
    let def = defs[name];
    chain.push(name.to_owned());
    let too_large = || LayoutError::TooLarge { name: name.to_owned() };
    let (mut offset, mut align) = (0u32, 1u32);
    let mut fields = Vec::with_capacity(def.fields.len());
    for (field, ty) in &def.fields {
        let (size, field_align) = size_align(ty, name, field, defs, done, chain)?;
        offset = offset.checked_next_multiple_of(field_align).ok_or_else(too_large)?;
        fields.push(FieldSlot { name: field.clone(), ty: ty.clone(), offset, size });
        offset = offset.checked_add(size).ok_or_else(too_large)?;
        align = align.max(field_align);
    }
    let size = offset.checked_next_multiple_of(align).ok_or_else(too_large)?;
    chain.pop();
    done.insert(name.to_owned(), StructLayout { name: name.to_owned(), size, align, fields });
    Ok((size, align))
}

fn size_align(
    ty: &FieldType,
    owner: &str,
    field: &str,
    defs: &BTreeMap<&str, &StructDef>,
    done: &mut BTreeMap<String, StructLayout>,
    chain: &mut Vec<String>,
) -> Result<(u32, u32), LayoutError> {
    match ty {
        FieldType::Scalar(s) | FieldType::Enum(_, s) => Ok((s.size(), s.size())),
        FieldType::Array(elem, len) => {
            let (size, align) = size_align(elem, owner, field, defs, done, chain)?;
            let total =
                size.checked_mul(*len).ok_or(LayoutError::TooLarge { name: owner.to_owned() })?;
            Ok((total, align))
        }
        FieldType::Struct(name) if defs.contains_key(name.as_str()) => {
            layout_of_struct(name, defs, done, chain)
        }
        FieldType::Struct(name) => Err(LayoutError::UnknownType {
            owner: owner.to_owned(),
            field: field.to_owned(),
            ty: name.clone(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::{align_of, offset_of, size_of};

    fn s(name: &str) -> FieldType {
        FieldType::Scalar(Scalar::from_name(name).unwrap())
    }

    fn def(name: &str, fields: &[(&str, FieldType)]) -> StructDef {
        StructDef {
            name: name.into(),
            fields: fields.iter().map(|(n, t)| (n.to_string(), t.clone())).collect(),
        }
    }

    #[allow(dead_code)]
    #[repr(C)]
    struct Inner {
        flag: bool,
        value: f64,
        small: u16,
    }

    #[allow(dead_code)]
    #[repr(C)]
    struct Outer {
        a: u8,
        inner: Inner,
        xs: [u16; 3],
        b: i32,
        grid: [[u8; 3]; 2],
        tail: u64,
        last: i8,
    }

    #[allow(dead_code)]
    #[repr(C)]
    struct Empty {}

    #[test]
    fn matches_rustc_repr_c_layouts() {
        let defs = vec![
            def(
                "Outer",
                &[
                    ("a", s("u8")),
                    ("inner", FieldType::Struct("Inner".into())),
                    ("xs", FieldType::Array(Box::new(s("u16")), 3)),
                    ("b", s("i32")),
                    ("grid", FieldType::Array(Box::new(FieldType::Array(Box::new(s("u8")), 3)), 2)),
                    ("tail", s("u64")),
                    ("last", s("i8")),
                ],
            ),
            def("Inner", &[("flag", s("bool")), ("value", s("f64")), ("small", s("u16"))]),
            def("Empty", &[]),
        ];
        let layouts = compute_layouts(&defs).unwrap();
        let outer = &layouts["Outer"];
        assert_eq!(outer.size as usize, size_of::<Outer>());
        assert_eq!(outer.align as usize, align_of::<Outer>());
        let rustc = [
            offset_of!(Outer, a),
            offset_of!(Outer, inner),
            offset_of!(Outer, xs),
            offset_of!(Outer, b),
            offset_of!(Outer, grid),
            offset_of!(Outer, tail),
            offset_of!(Outer, last),
        ];
        let ours: Vec<usize> = outer.fields.iter().map(|f| f.offset as usize).collect();
        assert_eq!(ours, rustc);
        let inner = &layouts["Inner"];
        assert_eq!(
            (inner.size as usize, inner.align as usize),
            (size_of::<Inner>(), align_of::<Inner>())
        );
        assert_eq!(inner.field("small").unwrap().offset as usize, offset_of!(Inner, small));
        let empty = &layouts["Empty"];
        assert_eq!(
            (empty.size as usize, empty.align as usize),
            (size_of::<Empty>(), align_of::<Empty>())
        );
    }

    #[test]
    fn scalar_sizes_match_rustc() {
        let sizes = [
            size_of::<bool>(),
            size_of::<i8>(),
            size_of::<u8>(),
            size_of::<i16>(),
            size_of::<u16>(),
            size_of::<i32>(),
            size_of::<u32>(),
            size_of::<i64>(),
            size_of::<u64>(),
            size_of::<isize>(),
            size_of::<usize>(),
            size_of::<f32>(),
            size_of::<f64>(),
        ];
        for (scalar, size) in Scalar::ALL.iter().zip(sizes) {
            assert_eq!(scalar.size() as usize, size, "{scalar:?}");
        }
    }

    #[test]
    fn unknown_recursive_and_duplicate_structs_are_errors() {
        let unknown = compute_layouts(&[def("A", &[("x", FieldType::Struct("Vec".into()))])]);
        assert!(unknown.unwrap_err().to_string().contains("`A.x` has type `Vec`"));
        let cyclic = compute_layouts(&[
            def("A", &[("b", FieldType::Struct("B".into()))]),
            def("B", &[("a", FieldType::Array(Box::new(FieldType::Struct("A".into())), 2))]),
        ]);
        assert_eq!(
            cyclic.unwrap_err(),
            LayoutError::Recursive { chain: vec!["A".into(), "B".into(), "A".into()] }
        );
        let twice = compute_layouts(&[def("A", &[]), def("A", &[])]);
        assert_eq!(twice.unwrap_err(), LayoutError::Duplicate { name: "A".into() });
        let huge =
            compute_layouts(&[def("H", &[("x", FieldType::Array(Box::new(s("u64")), u32::MAX))])]);
        assert!(matches!(huge, Err(LayoutError::TooLarge { .. })));
    }

    #[test]
    fn text_form_lists_every_field() {
        let layouts = compute_layouts(&[def("P", &[("x", s("f32")), ("y", s("f64"))])]).unwrap();
        assert_eq!(layouts["P"].to_text(), "P size=16 align=8 fields=x@0:4,y@8:8");
    }
}
