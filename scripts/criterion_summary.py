#!/usr/bin/env python3
"""Prints a Markdown table of the medians and spreads criterion stored under target/criterion.

Usage: scripts/criterion_summary.py [FILTER]   (FILTER: substring of the benchmark path)

For each benchmark: median, median absolute deviation (MAD) and the 95% confidence interval
of the median, from criterion's `new/estimates.json` (the last run).
"""
import json
import pathlib
import sys


def fmt(ns: float) -> str:
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"


def main() -> None:
    root = pathlib.Path("target/criterion")
    wanted = sys.argv[1] if len(sys.argv) > 1 else ""
    rows = []
    for path in sorted(root.glob("**/new/estimates.json")):
        name = str(path.parent.parent.relative_to(root))
        if wanted not in name or name.startswith("report"):
            continue
        est = json.loads(path.read_text())
        median = est["median"]
        ci = median["confidence_interval"]
        rows.append((name, median["point_estimate"], est["median_abs_dev"]["point_estimate"],
                     ci["lower_bound"], ci["upper_bound"]))
    print("| benchmark | median | MAD | 95% CI of median |")
    print("|---|---|---|---|")
    for name, med, mad, lo, hi in rows:
        print(f"| `{name}` | {fmt(med)} | {fmt(mad)} | {fmt(lo)} – {fmt(hi)} |")


if __name__ == "__main__":
    main()
