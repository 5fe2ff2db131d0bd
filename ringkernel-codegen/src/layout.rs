//! Layout of message, response and state types as the GPU sees them.
//!
//! Every type that crosses the host↔device boundary is `#[repr(C)]`, so its layout is fully
//! determined by its field types: each field sits at the next offset aligned to its own
//! alignment, and the size is rounded up to the struct's alignment (the largest field
//! alignment). [`TypeLayout`] records the result so that both sides (and compile-time
//! assertions) can compare it.

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

/// Size, alignment and field offsets of a `#[repr(C)]` type.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalar_layouts_match_rustc() {
        assert_eq!(TypeLayout::scalar("u64", 8).align as usize, core::mem::align_of::<u64>());
        assert_eq!(TypeLayout::scalar("u16", 2).size as usize, core::mem::size_of::<u16>());
        assert_eq!(TypeLayout::scalar("()", 0).align, 1);
    }
}
