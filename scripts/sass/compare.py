#!/usr/bin/env python3
"""SASS instruction counts: ringkernel-codegen's PTX versus NVRTC's for the same kernels.

Usage (from the repository root, with .venv holding nvidia-cuda-nvcc-cu12,
nvidia-cuda-nvrtc-cu12, nvidia-cuda-cuobjdump and nvidia-cuda-nvdisasm):
    python3 scripts/sass/compare.py [sm_90]           # golden kernels vs kernels.cu
    python3 scripts/sass/compare.py [sm_90] --math    # the math library vs CUDA's (math.cu)
    python3 scripts/sass/compare.py [sm_90] --fuel    # the loop budget's cost in the golden kernels

Both PTX texts go through `ptxas -O3 -arch=<target>`; `cuobjdump -sass` lists the SASS and
every instruction except NOP is counted, over all functions of the cubin. On ringkernel's
side the persistent entry is removed first, so that both cubins hold the batch kernel, the
handler and its helpers only.
"""
import ctypes
import glob
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "nvrtc"))
from nvrtc_ptx import nvrtc_ptx  # noqa: E402

ARGS = [a for a in sys.argv[1:] if not a.startswith("--")]
MATH = "--math" in sys.argv
FUEL = "--fuel" in sys.argv
TARGET = ARGS[0] if ARGS else "sm_90"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SITE = glob.glob(os.path.join(ROOT, ".venv/lib/python3*/site-packages/nvidia"))[0]
PTXAS = os.path.join(SITE, "cuda_nvcc/bin/ptxas")
CUOBJDUMP = (glob.glob(os.path.join(SITE, "cuda_cuobjdump/bin/cuobjdump")) + glob.glob(os.path.join(SITE, "cu13/bin/cuobjdump")))[0]
NVDISASM_DIR = os.path.dirname((glob.glob(os.path.join(SITE, "cuda_nvdisasm/bin/nvdisasm")) + glob.glob(os.path.join(SITE, "cu13/bin/nvdisasm")))[0])

# (golden file, handler fn name)
KERNELS = [
    ("stateless_scalar", "echo_plus_one"),
    ("control_if", "classify"),
    ("loops", "collatz"),
    ("device_calls", "device_calls"),
    ("float_math", "float_math"),
    ("bits", "bit_stats"),
]


# The math library's sinf/expf/logf/sin/exp/log against CUDA's full-precision versions.
MATH_KERNELS = [(None, n) for n in ["sinf_k", "expf_k", "logf_k", "sin_k", "exp_k", "log_k"]]


def sass_counts(ptx: str, tmp: str, tag: str) -> dict:
    ptx_path = os.path.join(tmp, f"{tag}.ptx")
    cubin = os.path.join(tmp, f"{tag}.cubin")
    with open(ptx_path, "w") as f:
        f.write(ptx)
    subprocess.run([PTXAS, "-O3", f"-arch={TARGET}", ptx_path, "-o", cubin], check=True)
    env = dict(os.environ, PATH=NVDISASM_DIR + os.pathsep + os.environ.get("PATH", ""))
    out = subprocess.run([CUOBJDUMP, "-sass", cubin], check=True, capture_output=True, text=True, env=env).stdout
    counts, current = {}, None
    for line in out.splitlines():
        m = re.match(r"\s*Function : (\S+)", line)
        if m:
            current = m.group(1)
            counts[current] = 0
        elif current and re.search(r"/\*[0-9a-f]{4,}\*/", line) and " NOP" not in line:
            counts[current] += 1
    return counts


# One loop iteration's fuel check, as the PTX writer emits it (`FuncWriter::tick`).
TICK = re.compile(r"\tsetp\.eq\.u32 \t(%p\d+), (%r\d+), 0;\n\t@\1 bra \t\$L__budget_exhausted\d+;\n\tsub\.u32 \t\2, \2, 1;\n")


def fuel_cost():
    """SASS of every golden kernel with loops, as written and with its fuel checks removed
    (the abort path then is unreachable and ptxas drops it, with the fuel's set-up)."""
    tmp = tempfile.mkdtemp(prefix="rk-fuel-")
    print("| golden kernel | SASS with budget | without | extra | ratio |")
    print("|---|---|---|---|---|")
    total = [0, 0]
    artifacts = []
    for path in sorted(glob.glob(os.path.join(ROOT, "ringkernel-codegen/tests/out/ptx/*.ptx"))):
        # A golden file may hold several artifacts, each starting with its header.
        texts = re.split(r"(?m)^(?=// ringkernel-artifact)", open(path).read())
        texts = [t for t in texts if "budget_exhausted" in t]
        for i, text in enumerate(texts):
            suffix = f"#{i + 1}" if len(texts) > 1 else ""
            artifacts.append((os.path.basename(path)[:-4] + suffix, text))
    for name, ptx in artifacts:
        # The handler and the batch entry, as in `main` (the persistent entry only calls it).
        ptx = re.sub(r"\.visible \.entry \w+_persistent\(.*?\n}\n", "", ptx, flags=re.S)
        stripped, ticks = TICK.subn("", ptx)
        with_budget = sum(sass_counts(ptx, tmp, f"{name.replace('#', '-')}-fuel").values())
        without = sum(sass_counts(stripped, tmp, f"{name.replace('#', '-')}-bare").values())
        total[0] += with_budget
        total[1] += without
        print(f"| `{name}` ({ticks} checks) | {with_budget} | {without} | {with_budget - without} | {with_budget / without:.2f}x |")
    print(f"| all | {total[0]} | {total[1]} | {total[0] - total[1]} | {total[0] / total[1]:.2f}x |")


def main():
    if FUEL:
        return fuel_cost()
    tmp = tempfile.mkdtemp(prefix="rk-sass-")
    with open(os.path.join(ROOT, "scripts/sass/math.cu" if MATH else "scripts/sass/kernels.cu")) as f:
        cuda = f.read()
    nvrtc = sass_counts(nvrtc_ptx(cuda, TARGET), tmp, "nvrtc")
    print(f"| kernel | ringkernel SASS | NVRTC SASS | ratio |")
    print(f"|---|---|---|---|")
    worst = 0.0
    for golden, name in (MATH_KERNELS if MATH else KERNELS):
        source = "scripts/sass/math_kernels.rs" if golden is None else f"ringkernel-codegen/tests/in/{golden}.rs"
        subprocess.run(["cargo", "run", "-q", "-p", "ringkernel-codegen", "--example", "smoke", "--",
                        source, TARGET, tmp], check=True, cwd=ROOT, capture_output=True)
        artifact = [p for p in glob.glob(os.path.join(tmp, "*.ptx")) if open(p).read().count(f" {name}_handler(") > 0 and "ringkernel-artifact" in open(p).read()][0]
        ptx = open(artifact).read()
        ptx = re.sub(r"\.visible \.entry " + name + r"_persistent\(.*?\n}\n", "", ptx, flags=re.S)
        ours = sass_counts(ptx, tmp, f"rk-{name}")
        # NVRTC: the batch kernel plus any device functions it kept (those named in it).
        theirs = sum(v for k, v in nvrtc.items() if k == f"{name}_batch")
        mine = sum(ours.values())
        ratio = mine / theirs
        worst = max(worst, ratio)
        print(f"| `{name}` | {mine} | {theirs} | {ratio:.2f}x |")
        for p in glob.glob(os.path.join(tmp, "*-v*.ptx")):
            os.remove(p)
    print(f"\nworst ratio {worst:.2f}x (goal: at most {1.5 if MATH else 1.25}x)")


if __name__ == "__main__":
    main()
