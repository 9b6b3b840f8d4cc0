//! [`Element`]: the Rust scalar types that slices of a typed list can have,
//! and which [`Kind`]s each one may view.

use multimem_abi::Kind;

/// A Rust type that a typed list's bytes can be viewed as.
///
/// # Safety
///
/// Implementors must be plain little-endian scalars with no invalid bit
/// patterns, whose size equals `elementSizeInBytes / lanes` of every kind
/// that [`Element::views`] accepts.
pub unsafe trait Element: Copy + 'static {
    /// Whether a list of `kind` may be viewed as a slice of `Self` (its
    /// lanes, for the SIMD kinds).
    fn views(kind: Kind) -> bool;
}

macro_rules! element {
    ($t:ty, $($k:ident),+) => {
        // SAFETY: a plain scalar; the kinds listed have this lane size (checked
        // against the ABI tables by the `element_sizes_match_abi` test).
        unsafe impl Element for $t {
            fn views(kind: Kind) -> bool {
                matches!(kind, $(Kind::$k)|+)
            }
        }
    };
}

element!(u8, ByteData, Uint8List, Uint8ClampedList);
element!(i8, ByteData, Int8List);
element!(i16, Int16List);
element!(u16, Uint16List);
element!(i32, Int32List, Int32x4List);
element!(u32, Uint32List);
element!(i64, Int64List);
element!(u64, Uint64List);
element!(f32, Float32List, Float32x4List);
element!(f64, Float64List, Float64x2List);

/// Bytes per lane of `kind`.
pub(crate) fn lane_size(kind: Kind) -> u32 {
    kind.element_size() / kind.lanes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use multimem_abi::Number;

    fn check<T: Element>() {
        for &k in Kind::ALL {
            if T::views(k) {
                assert_eq!(lane_size(k) as usize, std::mem::size_of::<T>(), "{k:?}");
                let float = matches!(k.number(), Number::Float);
                assert_eq!(float, std::any::type_name::<T>().starts_with('f'), "{k:?}");
            }
        }
    }

    #[test]
    fn element_sizes_match_abi() {
        check::<u8>();
        check::<i8>();
        check::<i16>();
        check::<u16>();
        check::<i32>();
        check::<u32>();
        check::<i64>();
        check::<u64>();
        check::<f32>();
        check::<f64>();
        // Every kind can be viewed by some element type.
        for &k in Kind::ALL {
            let any = [
                u8::views(k),
                i8::views(k),
                i16::views(k),
                u16::views(k),
                i32::views(k),
                u32::views(k),
                i64::views(k),
                u64::views(k),
                f32::views(k),
                f64::views(k),
            ];
            assert!(any.iter().any(|&b| b), "{k:?} has no element type");
        }
    }
}
