#!/usr/bin/env python3
"""Prints the constants of ringkernel-codegen/src/math/shared.rs (mpmath, 1600 bits).

Every constant is the double nearest to the exact value unless its comment says that low bits
are cleared (the `_HI` halves of split constants, whose products with small integers are exact).
Run it to check or regenerate the values: `python3 scripts/math/constants.py` (then
`cargo fmt`, which wraps the tables).
"""
import struct
from mpmath import mp, mpf, log, pi, atan, factorial, floor

mp.prec = 1600


def bits(x):
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def from_bits(b):
    return struct.unpack("<d", struct.pack("<Q", b))[0]


def nearest(x):
    return float(x)  # mpmath rounds to nearest


def cleared(x, low_bits=32):
    """x rounded to nearest, then its low `low_bits` mantissa bits cleared."""
    return from_bits(bits(nearest(x)) & ~((1 << low_bits) - 1) & (2**64 - 1))


def split(name, x, low_bits=32):
    hi = cleared(x, low_bits)
    lo = nearest(x - mpf(hi))
    print(f"pub(super) const {name}_HI: f64 = {hi!r};")
    print(f"pub(super) const {name}_LO: f64 = {lo!r};")


def single(name, x):
    print(f"pub(super) const {name}: f64 = {nearest(x)!r};")


def array(name, values, ty="f64"):
    body = ", ".join(repr(v) for v in values)
    print(f"pub(super) const {name}: [{ty}; {len(values)}] = [{body}];")


def coefficients(name, first, values):
    """Polynomial coefficients as named scalars (`NAME_<first + i>`), for explicit Horner forms."""
    for i, v in enumerate(values):
        print(f"pub(super) const {name}_{first + i}: f64 = {v!r};")


ln2 = log(2)
split("LN2", ln2)
single("LN2", ln2)
single("LN2_TAIL", ln2 - mpf(nearest(ln2)))
single("INV_LN2", 1 / ln2)
split("INV_LN2", 1 / ln2)
split("LOG10_2", log(2, 10))
split("INV_LN10", 1 / log(10))
# pi/2 in four parts, three of 33 bits (k * part exact for |k| < 2^20), and as hi + lo.
rest = pi / 2
for i in range(1, 5):
    part = cleared(rest, 20) if i < 4 else nearest(rest)
    print(f"pub(super) const PIO2_{i}: f64 = {part!r};")
    rest -= mpf(part)
single("PIO2_HI", pi / 2)
single("PIO2_LO", pi / 2 - mpf(nearest(pi / 2)))
single("PI_HI", pi)
single("PI_LO", pi - mpf(nearest(pi)))
single("PIO4_HI", pi / 4)
single("INV_PIO2", 2 / pi)
# 2/pi in 24-bit digits: 2/pi = sum(d[i] * 2^(-24 (i + 1))).
digits, rest = [], 2 / pi
for _ in range(52):
    rest *= 2**24
    d = int(floor(rest))
    digits.append(d)
    rest -= d
array("TWO_OVER_PI_DIGITS", digits, "u32")
# Taylor coefficients: EXP_n = 1/n!, SIN_n = (-1)^k/n! (n = 2k+1), COS_n = (-1)^k/n! (n = 2k),
# ATAN_n = (-1)^k/n (n = 2k+1), ATANH_n = 2/n (n = 2k+1).
coefficients("EXP", 2, [nearest(1 / factorial(n)) for n in range(2, 15)])
print("\n".join(f"pub(super) const SIN_{2*k+1}: f64 = {nearest((-1) ** k / factorial(2 * k + 1))!r};" for k in range(1, 10)))
print("\n".join(f"pub(super) const COS_{2*k}: f64 = {nearest((-1) ** k / factorial(2 * k))!r};" for k in range(2, 11)))
print("\n".join(f"pub(super) const ATAN_{2*k+1}: f64 = {nearest(mpf((-1) ** k) / (2 * k + 1))!r};" for k in range(1, 9)))
print("\n".join(f"pub(super) const ATANH_{2*k+1}: f64 = {nearest(mpf(2) / (2 * k + 1))!r};" for k in range(1, 13)))
array("ATAN_EIGHTHS_HI", [nearest(atan(mpf(j) / 8)) for j in range(9)])
array("ATAN_EIGHTHS_LO", [nearest(atan(mpf(j) / 8) - mpf(nearest(atan(mpf(j) / 8)))) for j in range(9)])
acot = [pi / 2 - atan(mpf(j) / 8) for j in range(9)]
array("ACOT_EIGHTHS_HI", [nearest(a) for a in acot])
array("ACOT_EIGHTHS_LO", [nearest(a - mpf(nearest(a))) for a in acot])
single("ATANH_3_TAIL", mpf(2) / 3 - mpf(nearest(mpf(2) / 3)))
