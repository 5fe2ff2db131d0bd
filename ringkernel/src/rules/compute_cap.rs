//! Compute capability strings and which devices can run which PTX targets.
//!
//! Accepted forms are `sm_XY`, `sm_XYa` and `sm_XYf`, where the last digit is the minor
//! version and the digits before it the major (`sm_86` is 8.6, `sm_120` is 12.0):
//!
//! - `sm_XY` (portable): the driver JIT-compiles PTX for any device of capability X.Y or
//!   higher, so it runs on every device `>=` it, compared numerically (`sm_100 > sm_90`).
//! - `sm_XYa` (architecture-specific, e.g. `sm_90a` for wgmma): such PTX uses features of
//!   exactly that architecture and is not forward compatible: it runs only on X.Y devices.
//! - `sm_XYf` (family-specific): runs on devices of the same major version X with a minor
//!   version of at least Y.
//!
//! A device's own capability is written the same way; a suffix on the device string is
//! ignored (an sm_90 device is an sm_90 device).

use std::fmt;
use std::str::FromStr;

/// Portability class of a PTX target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArchVariant {
    /// `sm_XY`: forward compatible.
    Portable,
    /// `sm_XYa`: that exact architecture only.
    ArchSpecific,
    /// `sm_XYf`: same major version, equal or higher minor.
    FamilySpecific,
}

/// A parsed compute capability.
///
/// ```
/// use ringkernel::rules::ComputeCap;
/// let rule: ComputeCap = "sm_80".parse().unwrap();
/// assert!(rule.runs_on(&"sm_90".parse().unwrap()));
/// let specific: ComputeCap = "sm_90a".parse().unwrap();
/// assert!(!specific.runs_on(&"sm_100".parse().unwrap()));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ComputeCap {
    /// Major version.
    pub major: u32,
    /// Minor version.
    pub minor: u32,
    /// Portability class.
    pub variant: ArchVariant,
}

impl ComputeCap {
    /// Whether PTX targeting `self` can run on a device of capability `device`.
    pub fn runs_on(&self, device: &ComputeCap) -> bool {
        let (rule, dev) = ((self.major, self.minor), (device.major, device.minor));
        match self.variant {
            ArchVariant::Portable => dev >= rule,
            ArchVariant::ArchSpecific => dev == rule,
            ArchVariant::FamilySpecific => device.major == self.major && device.minor >= self.minor,
        }
    }
}

impl FromStr for ComputeCap {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let rest = text.strip_prefix("sm_").ok_or("expected `sm_XY`, `sm_XYa` or `sm_XYf`")?;
        let (digits, variant) = match rest.as_bytes().last() {
            Some(b'a') => (&rest[..rest.len() - 1], ArchVariant::ArchSpecific),
            Some(b'f') => (&rest[..rest.len() - 1], ArchVariant::FamilySpecific),
            _ => (rest, ArchVariant::Portable),
        };
        if digits.len() < 2 || digits.len() > 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err("expected two to four digits after `sm_` (major then one minor digit), with an optional `a` or `f` suffix".into());
        }
        let (major, minor) = digits.split_at(digits.len() - 1);
        let major: u32 = major.parse().map_err(|_| "major version is not a number")?;
        let minor: u32 = minor.parse().map_err(|_| "minor version is not a number")?;
        if major == 0 {
            return Err("major version must be at least 1".into());
        }
        Ok(Self { major, minor, variant })
    }
}

impl fmt::Display for ComputeCap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let suffix = match self.variant {
            ArchVariant::Portable => "",
            ArchVariant::ArchSpecific => "a",
            ArchVariant::FamilySpecific => "f",
        };
        write!(f, "sm_{}{}{suffix}", self.major, self.minor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cc(text: &str) -> ComputeCap {
        text.parse().unwrap()
    }

    #[test]
    fn parses_two_and_three_digit_forms() {
        assert_eq!((cc("sm_86").major, cc("sm_86").minor), (8, 6));
        assert_eq!((cc("sm_120").major, cc("sm_120").minor), (12, 0));
        assert_eq!(cc("sm_90a").variant, ArchVariant::ArchSpecific);
        assert_eq!(cc("sm_100f").to_string(), "sm_100f");
    }

    #[test]
    fn rejects_malformed_strings() {
        for bad in
            ["", "90", "sm_", "sm_9", "sm_9x", "sm_90b", "compute_90", "sm_00", "sm_12345", "sm_-1"]
        {
            assert!(bad.parse::<ComputeCap>().is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn portable_targets_compare_numerically() {
        assert!(cc("sm_70").runs_on(&cc("sm_90")));
        assert!(cc("sm_90").runs_on(&cc("sm_100")), "100 must compare above 90, not as text");
        assert!(!cc("sm_90").runs_on(&cc("sm_89")));
        assert!(!cc("sm_86").runs_on(&cc("sm_80")));
    }

    #[test]
    fn arch_specific_targets_need_the_exact_architecture() {
        assert!(cc("sm_90a").runs_on(&cc("sm_90")));
        assert!(cc("sm_90a").runs_on(&cc("sm_90a")), "device suffix is ignored");
        assert!(!cc("sm_90a").runs_on(&cc("sm_100")));
        assert!(!cc("sm_90a").runs_on(&cc("sm_89")));
    }

    #[test]
    fn family_specific_targets_stay_within_the_major_version() {
        assert!(cc("sm_100f").runs_on(&cc("sm_103")));
        assert!(!cc("sm_100f").runs_on(&cc("sm_120")));
        assert!(!cc("sm_101f").runs_on(&cc("sm_100")));
    }
}
