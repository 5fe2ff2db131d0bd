//! CUDA's device-side `printf`: a call to the `.extern` function `vprintf(format, args)`
//! that nvcc and NVRTC emit. The VM formats it on the host into the launch's output
//! ([`crate::Vm::take_output`]), so kernels can be debugged with `printf` on any machine.
//!
//! `format` is a generic pointer to a NUL-terminated string, `args` a generic pointer to the
//! arguments, each aligned to its size: 4 bytes for `int`-sized conversions (`%d %i %u %x %X
//! %o %c`, and `h`/`hh`), 8 for `l`/`ll`, `%f %e %g %a` (floats are promoted to double), `%s`
//! and `%p`. Flags `-+ 0#`, width and precision (`*` is not supported) are honoured. The
//! return value is the number of arguments read, as on the GPU.

use super::memory_ops::{copy_param, param_word, set_param_word};
use super::{Exec, FaultKind, Thread};
use crate::inst::{CallSite, Space};
use crate::memory::{Block, load};

const MAX_STRING: u64 = 4096;

impl Exec<'_> {
    /// A `call` of `vprintf` (an `.extern` without a body): copy the arguments in, format,
    /// append to the output, return the argument count. Kept out of the run loop.
    #[cold]
    #[inline(never)]
    pub(super) fn call_vprintf(
        &mut self,
        t: &mut Thread,
        site: &CallSite,
    ) -> Result<(), FaultKind> {
        let f = &self.module.functions[site.func as usize];
        for copy in &site.args {
            copy_param(&t.param, copy);
        }
        let format = param_word(&t.param, f.params[0].offset);
        let args = param_word(&t.param, f.params[1].offset);
        let ret = f.rets[0].offset;
        let (text, count) = self.vprintf(format, args, &t.local, &t.param)?;
        self.output.lock().push_str(&text);
        set_param_word(&t.param, ret, u64::from(count));
        for copy in &site.rets {
            copy_param(&t.param, copy);
        }
        Ok(())
    }

    fn byte(&mut self, address: u64, local: &Block, param: &Block) -> Result<u8, FaultKind> {
        let ptr = self.locate(Space::Generic, address, 1, local, param)?;
        // SAFETY: `locate` returned a pointer to one byte inside a live region; atomic read.
        Ok(unsafe { load(ptr, 1, std::sync::atomic::Ordering::Relaxed) } as u8)
    }

    fn string(&mut self, address: u64, local: &Block, param: &Block) -> Result<Vec<u8>, FaultKind> {
        let mut out = Vec::new();
        for i in 0..MAX_STRING {
            match self.byte(address.wrapping_add(i), local, param)? {
                0 => break,
                b => out.push(b),
            }
        }
        Ok(out)
    }

    fn word(
        &mut self,
        address: u64,
        size: u64,
        local: &Block,
        param: &Block,
    ) -> Result<u64, FaultKind> {
        let ptr = self.locate(Space::Generic, address, size, local, param)?;
        // SAFETY: as in `byte`, `size` bytes, aligned.
        Ok(unsafe { load(ptr, size, std::sync::atomic::Ordering::Relaxed) })
    }

    /// Formats one `vprintf` call; returns the text and the number of arguments read.
    pub(super) fn vprintf(
        &mut self,
        format: u64,
        args: u64,
        local: &Block,
        param: &Block,
    ) -> Result<(String, u32), FaultKind> {
        let fmt = self.string(format, local, param)?;
        let mut out = String::new();
        let mut next = args;
        let mut count = 0u32;
        let mut i = 0;
        while i < fmt.len() {
            if fmt[i] != b'%' {
                let start = i;
                while i < fmt.len() && fmt[i] != b'%' {
                    i += 1;
                }
                out.push_str(&String::from_utf8_lossy(&fmt[start..i]));
                continue;
            }
            let spec_start = i;
            i += 1;
            let mut spec = Spec::default();
            while i < fmt.len() && b"-+ 0#".contains(&fmt[i]) {
                match fmt[i] {
                    b'-' => spec.left = true,
                    b'+' => spec.plus = true,
                    b' ' => spec.space = true,
                    b'0' => spec.zero = true,
                    _ => spec.alternate = true,
                }
                i += 1;
            }
            while i < fmt.len() && fmt[i].is_ascii_digit() {
                spec.width = spec.width * 10 + usize::from(fmt[i] - b'0');
                i += 1;
            }
            if i < fmt.len() && fmt[i] == b'.' {
                i += 1;
                let mut p = 0;
                while i < fmt.len() && fmt[i].is_ascii_digit() {
                    p = p * 10 + usize::from(fmt[i] - b'0');
                    i += 1;
                }
                spec.precision = Some(p);
            }
            let mut wide = false;
            while i < fmt.len() && b"hlLqjzt".contains(&fmt[i]) {
                wide |= matches!(fmt[i], b'l' | b'L' | b'q' | b'j' | b'z' | b't');
                i += 1;
            }
            let Some(&conv) = fmt.get(i) else {
                out.push_str(&String::from_utf8_lossy(&fmt[spec_start..]));
                break;
            };
            i += 1;
            let size = match conv {
                b'%' => {
                    out.push('%');
                    continue;
                }
                b'f' | b'F' | b'e' | b'E' | b'g' | b'G' | b'a' | b'A' | b's' | b'p' => 8,
                b'd' | b'i' | b'u' | b'x' | b'X' | b'o' | b'c' => {
                    if wide {
                        8
                    } else {
                        4
                    }
                }
                _ => {
                    // Unknown conversion: printed as written, no argument consumed.
                    out.push_str(&String::from_utf8_lossy(&fmt[spec_start..i]));
                    continue;
                }
            };
            next = next.next_multiple_of(size);
            let raw = self.word(next, size, local, param)?;
            next += size;
            count += 1;
            let body = match conv {
                b'd' | b'i' => {
                    let v = if size == 4 { i64::from(raw as u32 as i32) } else { raw as i64 };
                    let sign = if v < 0 {
                        "-"
                    } else if spec.plus {
                        "+"
                    } else if spec.space {
                        " "
                    } else {
                        ""
                    };
                    spec.number(sign, v.unsigned_abs().to_string())
                }
                b'u' => spec.number("", raw.to_string()),
                b'x' => spec
                    .number(if spec.alternate && raw != 0 { "0x" } else { "" }, format!("{raw:x}")),
                b'X' => spec
                    .number(if spec.alternate && raw != 0 { "0X" } else { "" }, format!("{raw:X}")),
                b'o' => spec.number(if spec.alternate { "0" } else { "" }, format!("{raw:o}")),
                b'c' => spec.pad(char::from(raw as u8).to_string()),
                b'p' => spec.pad(format!("0x{raw:x}")),
                b's' => {
                    let s =
                        if raw == 0 { b"(null)".to_vec() } else { self.string(raw, local, param)? };
                    let s = String::from_utf8_lossy(&s).into_owned();
                    spec.pad(match spec.precision {
                        Some(p) => s.chars().take(p).collect(),
                        None => s,
                    })
                }
                _ => spec.float(conv, f64::from_bits(raw)),
            };
            out.push_str(&body);
        }
        Ok((out, count))
    }
}

#[derive(Default)]
struct Spec {
    left: bool,
    plus: bool,
    space: bool,
    zero: bool,
    alternate: bool,
    width: usize,
    precision: Option<usize>,
}

impl Spec {
    fn pad(&self, s: String) -> String {
        let n = s.chars().count();
        if n >= self.width {
            s
        } else if self.left {
            format!("{s}{}", " ".repeat(self.width - n))
        } else {
            format!("{}{s}", " ".repeat(self.width - n))
        }
    }

    /// An integer: `sign` or prefix, then digits (padded to the precision), then the width.
    fn number(&self, prefix: &str, mut digits: String) -> String {
        if let Some(p) = self.precision {
            if digits.len() < p {
                digits = format!("{}{digits}", "0".repeat(p - digits.len()));
            }
        }
        let n = prefix.len() + digits.len();
        if self.zero && !self.left && self.precision.is_none() && n < self.width {
            return format!("{prefix}{}{digits}", "0".repeat(self.width - n));
        }
        self.pad(format!("{prefix}{digits}"))
    }

    fn float(&self, conv: u8, x: f64) -> String {
        let p = self.precision.unwrap_or(6);
        let upper = conv.is_ascii_uppercase();
        let body = if x.is_nan() {
            "nan".to_string()
        } else if x.is_infinite() {
            "inf".to_string()
        } else {
            match conv.to_ascii_lowercase() {
                b'e' => exponent(format!("{:.*e}", p, x.abs())),
                b'g' => {
                    let p = p.max(1);
                    let e = if x == 0.0 { 0 } else { x.abs().log10().floor() as i32 };
                    if e < -4 || e >= p as i32 {
                        trim(exponent(format!("{:.*e}", p - 1, x.abs())), self.alternate)
                    } else {
                        trim(
                            format!("{:.*}", (p as i32 - 1 - e).max(0) as usize, x.abs()),
                            self.alternate,
                        )
                    }
                }
                b'a' => format!("{:e}", x.abs()),
                _ => format!("{:.*}", p, x.abs()),
            }
        };
        let body = if upper { body.to_uppercase() } else { body };
        let sign = if x.is_sign_negative() && !x.is_nan() {
            "-"
        } else if self.plus {
            "+"
        } else if self.space {
            " "
        } else {
            ""
        };
        let n = sign.len() + body.len();
        if self.zero && !self.left && x.is_finite() && n < self.width {
            return format!("{sign}{}{body}", "0".repeat(self.width - n));
        }
        self.pad(format!("{sign}{body}"))
    }
}

/// Rust writes `1.5e2`; C writes `1.5e+02`.
fn exponent(s: String) -> String {
    match s.split_once('e') {
        Some((m, e)) => {
            let (sign, digits) = e.strip_prefix('-').map_or(("+", e), |d| ("-", d));
            format!("{m}e{sign}{digits:0>2}")
        }
        None => s,
    }
}

/// `%g` drops trailing zeros (and a trailing point) unless `#` is given.
fn trim(s: String, keep: bool) -> String {
    if keep || !s.contains('.') {
        return s;
    }
    let (mantissa, rest) = match s.find('e') {
        Some(i) => (&s[..i], &s[i..]),
        None => (&s[..], ""),
    };
    format!("{}{rest}", mantissa.trim_end_matches('0').trim_end_matches('.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_style_number_formatting() {
        let s = |width, zero, precision| Spec { width, zero, precision, ..Spec::default() };
        assert_eq!(s(5, true, None).number("-", "42".into()), "-0042");
        assert_eq!(s(5, false, Some(3)).number("", "7".into()), "  007");
        assert_eq!(s(0, false, Some(2)).float(b'f', 1.005), "1.00");
        assert_eq!(s(0, false, None).float(b'e', 12345.678), "1.234568e+04");
        assert_eq!(s(0, false, None).float(b'g', 0.0001), "0.0001");
        assert_eq!(s(0, false, None).float(b'g', 1e-5), "1e-05");
        assert_eq!(s(0, false, None).float(b'g', 100.0), "100");
        assert_eq!(s(8, false, Some(2)).float(b'f', -1.23456), "   -1.23");
    }
}
