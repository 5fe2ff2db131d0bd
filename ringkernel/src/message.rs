//! Messages: fixed-size `#[repr(C)]` values that travel through the rings.
//!
//! A message is copied into a ring slot with [`RingMessage::encode`] and read back with
//! [`RingMessage::decode`]. Encoding writes every byte of the slot, padding included (as
//! zeros), so no uninitialised memory is ever read or sent to the device. Multi-byte values
//! are little-endian, the byte order of every CUDA device.

pub use ringkernel_codegen::layout::{FieldLayout, TypeLayout};

/// Why a message could not be encoded or decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    /// The buffer length differs from the message size in its layout.
    #[error("message `{type_name}` is {expected} bytes, the buffer has {actual}")]
    WrongSize {
        /// Name of the message type.
        type_name: &'static str,
        /// Size from the type's layout.
        expected: usize,
        /// Length of the buffer that was given.
        actual: usize,
    },
    /// The bytes hold a value the type cannot represent (a `bool` that is neither 0 nor 1,
    /// an enum discriminant that names no variant).
    #[error("message `{type_name}` field `{field}` holds an invalid value")]
    InvalidValue {
        /// Name of the message type.
        type_name: &'static str,
        /// Name of the offending field (`"value"` for scalars).
        field: &'static str,
    },
}

impl MessageError {
    /// `error`, raised while reading field `field` of `type_name`, as that field's error (an
    /// invalid value deep inside names the outermost struct and its field).
    pub fn in_field(error: MessageError, type_name: &'static str, field: &'static str) -> Self {
        match error {
            MessageError::InvalidValue { .. } => MessageError::InvalidValue { type_name, field },
            other => other,
        }
    }
}

/// A value that can be sent through a ring.
///
/// `#[derive(RingMessage)]` implements this for `#[repr(C)]` structs; the scalars and `()`
/// implement it here. Type ids below 256 are reserved for these built-in types.
///
/// ```
/// use ringkernel::RingMessage;
/// let bytes = 7u32.to_bytes();
/// assert_eq!(bytes, [7, 0, 0, 0]);
/// assert_eq!(u32::decode(&bytes), Ok(7));
/// assert!(u32::decode(&bytes[..3]).is_err());
/// ```
pub trait RingMessage: Sized + Send + 'static {
    /// Stable identifier of the type, written into every slot header.
    const TYPE_ID: u64;
    /// Layout of the type as the GPU sees it.
    const LAYOUT: TypeLayout;

    /// Writes the message into `out`, which must be exactly `LAYOUT.size` bytes long.
    fn encode(&self, out: &mut [u8]) -> Result<(), MessageError>;

    /// Reads a message from `bytes`, which must be exactly `LAYOUT.size` bytes long.
    fn decode(bytes: &[u8]) -> Result<Self, MessageError>;

    /// Reads a message from `bytes` (the length must be `LAYOUT.size`): the same as
    /// [`RingMessage::decode`].
    fn from_bytes(bytes: &[u8]) -> Result<Self, MessageError> {
        Self::decode(bytes)
    }

    /// The value's own bytes without copying, when the type has no padding (a byte view of
    /// padding would read uninitialised memory); `None` otherwise: use
    /// [`RingMessage::encode`], which writes padding as zeros.
    fn as_bytes(&self) -> Option<&[u8]> {
        None
    }

    /// Encodes into a new vector of `LAYOUT.size` bytes.
    fn to_bytes(&self) -> Vec<u8> {
        let mut out = vec![0u8; Self::LAYOUT.size as usize];
        self.encode(&mut out).expect("a buffer of LAYOUT.size bytes is always the right size");
        out
    }
}

/// Checks that a buffer has the size a layout demands.
pub fn check_size(layout: &TypeLayout, len: usize) -> Result<(), MessageError> {
    if len == layout.size as usize {
        Ok(())
    } else {
        Err(MessageError::WrongSize {
            type_name: layout.name,
            expected: layout.size as usize,
            actual: len,
        })
    }
}

macro_rules! scalar_message {
    ($($ty:ty => $id:expr),* $(,)?) => {$(
        impl RingMessage for $ty {
            const TYPE_ID: u64 = $id;
            const LAYOUT: TypeLayout = TypeLayout::scalar(stringify!($ty), core::mem::size_of::<$ty>() as u32);

            fn encode(&self, out: &mut [u8]) -> Result<(), MessageError> {
                check_size(&Self::LAYOUT, out.len())?;
                out.copy_from_slice(&self.to_le_bytes());
                Ok(())
            }

            fn decode(bytes: &[u8]) -> Result<Self, MessageError> {
                check_size(&Self::LAYOUT, bytes.len())?;
                let mut raw = [0u8; core::mem::size_of::<$ty>()];
                raw.copy_from_slice(bytes);
                Ok(<$ty>::from_le_bytes(raw))
            }

            fn as_bytes(&self) -> Option<&[u8]> {
                crate::__private::byte_view(self)
            }
        }
    )*};
}

scalar_message! {
    u8 => 1, i8 => 2, u16 => 3, i16 => 4, u32 => 5, i32 => 6, u64 => 7, i64 => 8,
    f32 => 9, f64 => 10,
}

impl RingMessage for bool {
    const TYPE_ID: u64 = 11;
    const LAYOUT: TypeLayout = TypeLayout::scalar("bool", 1);

    fn encode(&self, out: &mut [u8]) -> Result<(), MessageError> {
        check_size(&Self::LAYOUT, out.len())?;
        out[0] = u8::from(*self);
        Ok(())
    }

    fn decode(bytes: &[u8]) -> Result<Self, MessageError> {
        check_size(&Self::LAYOUT, bytes.len())?;
        match bytes[0] {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(MessageError::InvalidValue { type_name: "bool", field: "value" }),
        }
    }
}

impl RingMessage for () {
    const TYPE_ID: u64 = 12;
    const LAYOUT: TypeLayout = TypeLayout::scalar("()", 0);

    fn encode(&self, out: &mut [u8]) -> Result<(), MessageError> {
        check_size(&Self::LAYOUT, out.len())
    }

    fn decode(bytes: &[u8]) -> Result<Self, MessageError> {
        check_size(&Self::LAYOUT, bytes.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_round_trip_little_endian() {
        assert_eq!(0x0102_0304u32.to_bytes(), [4, 3, 2, 1]);
        assert_eq!(f64::decode(&1.5f64.to_bytes()), Ok(1.5));
        assert_eq!(i16::decode(&(-2i16).to_bytes()), Ok(-2));
        assert_eq!(<()>::decode(&[]), Ok(()));
    }

    #[test]
    fn wrong_sizes_and_invalid_bools_are_errors() {
        assert_eq!(
            u64::decode(&[0; 4]),
            Err(MessageError::WrongSize { type_name: "u64", expected: 8, actual: 4 })
        );
        assert!(7u16.encode(&mut [0u8; 3]).is_err());
        assert!(bool::decode(&[2]).is_err());
        assert_eq!(bool::decode(&[1]), Ok(true));
    }

    #[test]
    fn scalars_have_byte_views_equal_to_their_encoding() {
        let x = 0x0102_0304u32;
        if cfg!(target_endian = "little") {
            assert_eq!(x.as_bytes(), Some(&x.to_bytes()[..]));
        }
        assert_eq!(u8::from_bytes(&[9]), Ok(9));
    }

    #[test]
    fn scalar_layouts_are_rustc_layouts() {
        assert_eq!(u64::LAYOUT.size as usize, core::mem::size_of::<u64>());
        assert_eq!(i8::LAYOUT.align as usize, core::mem::align_of::<i8>());
        assert_eq!(bool::LAYOUT.size as usize, core::mem::size_of::<bool>());
    }
}
