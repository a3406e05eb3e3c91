//! Address kinds.
//!
//! A profile location's address goes through three spaces before it can be looked up:
//!
//! * [`RuntimeAddr`]: the address as the profiled process saw it (ASLR applied);
//! * [`FileOffset`]: the byte offset in the ELF file that was mapped at that address
//!   (`addr - mapping.start + mapping.offset`);
//! * [`Svma`]: the "stated virtual memory address", the address used by the symbol
//!   table and DWARF (`file_offset - p_offset + p_vaddr` of the right `PT_LOAD`).
//!
//! The types have no conversions between each other; the only way from one to the next
//! is the checked arithmetic in [`crate::symbolize::normalize`].

use std::fmt;

macro_rules! addr_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        #[repr(transparent)]
        pub struct $name(pub u64);

        impl $name {
            /// The raw value.
            pub const fn get(self) -> u64 {
                self.0
            }

            /// `self + delta`, or `None` on overflow.
            pub fn checked_add(self, delta: u64) -> Option<Self> {
                self.0.checked_add(delta).map(Self)
            }

            /// `self - delta`, or `None` on underflow.
            pub fn checked_sub(self, delta: u64) -> Option<Self> {
                self.0.checked_sub(delta).map(Self)
            }

            /// The distance `self - base`, or `None` if `self < base`.
            pub fn offset_from(self, base: Self) -> Option<u64> {
                self.0.checked_sub(base.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{:#x}", self.0)
            }
        }

        impl fmt::LowerHex for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::LowerHex::fmt(&self.0, f)
            }
        }
    };
}

addr_type!(
    /// An address as the profiled process saw it (after ASLR), e.g. `Location.address`.
    RuntimeAddr
);
addr_type!(
    /// A byte offset into an ELF file.
    FileOffset
);
addr_type!(
    /// An ELF virtual address as stated in the file (symbol values, DWARF `DW_AT_low_pc`,
    /// `p_vaddr`). Called SVMA after the "stated virtual memory address" of samply/wholesym.
    Svma
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_hex() {
        assert_eq!(RuntimeAddr(0x5562c0df43f8).to_string(), "0x5562c0df43f8");
        assert_eq!(Svma(0).to_string(), "0x0");
        assert_eq!(format!("{:x}", FileOffset(0x1000)), "1000");
    }

    #[test]
    fn checked_arithmetic() {
        assert_eq!(RuntimeAddr(10).offset_from(RuntimeAddr(4)), Some(6));
        assert_eq!(RuntimeAddr(4).offset_from(RuntimeAddr(10)), None);
        assert_eq!(Svma(u64::MAX).checked_add(1), None);
        assert_eq!(FileOffset(0).checked_sub(1), None);
    }
}
