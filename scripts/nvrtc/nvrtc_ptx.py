#!/usr/bin/env python3
"""Compiles CUDA C to PTX with NVRTC (from PyPI's nvidia-cuda-nvrtc-cu12), no GPU needed.

Usage: python3 scripts/nvrtc/nvrtc_ptx.py FILE.cu [sm_70 [NVRTC options...]]   (PTX on stdout)

The library is $RINGKERNEL_NVRTC, or libnvrtc.so* under .venv's nvidia/cuda_nvrtc/lib.
Options: --fmad=false (Rust never contracts a*b+c into an fma) unless another --fmad is
given, -default-device, then any extra options.
Also imported by scripts/sass/compare.py.
"""
import ctypes
import glob
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def library() -> str:
    if os.environ.get("RINGKERNEL_NVRTC"):
        return os.environ["RINGKERNEL_NVRTC"]
    found = glob.glob(os.path.join(ROOT, ".venv/lib/python3*/site-packages/nvidia/cuda_nvrtc/lib/libnvrtc.so*"))
    if not found:
        sys.exit("libnvrtc not found: set RINGKERNEL_NVRTC or pip install nvidia-cuda-nvrtc-cu12 into .venv")
    return sorted(found)[0]


def nvrtc_ptx(source: str, arch: str, name: str = "kernels.cu", extra=()) -> str:
    lib = ctypes.CDLL(library())
    prog = ctypes.c_void_p()

    def check(rc, what):
        if rc != 0:
            sys.exit(f"nvrtc {what} failed: {rc}")

    check(lib.nvrtcCreateProgram(ctypes.byref(prog), source.encode(), name.encode(), 0, None, None), "create")
    fmad = [] if any(o.startswith("--fmad") for o in extra) else ["--fmad=false"]
    opts = [o.encode() for o in [f"--gpu-architecture=compute_{arch[3:]}", *fmad, "-default-device", *extra]]
    arr = (ctypes.c_char_p * len(opts))(*opts)
    rc = lib.nvrtcCompileProgram(prog, len(opts), arr)
    if rc != 0:
        size = ctypes.c_size_t()
        lib.nvrtcGetProgramLogSize(prog, ctypes.byref(size))
        log = ctypes.create_string_buffer(size.value)
        lib.nvrtcGetProgramLog(prog, log)
        sys.exit("nvrtc compile failed:\n" + log.value.decode())
    size = ctypes.c_size_t()
    check(lib.nvrtcGetPTXSize(prog, ctypes.byref(size)), "get PTX size")
    ptx = ctypes.create_string_buffer(size.value)
    check(lib.nvrtcGetPTX(prog, ptx), "get PTX")
    lib.nvrtcDestroyProgram(ctypes.byref(prog))
    return ptx.value.decode()


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    with open(sys.argv[1]) as f:
        arch = sys.argv[2] if len(sys.argv) > 2 else "sm_70"
        sys.stdout.write(nvrtc_ptx(f.read(), arch, os.path.basename(sys.argv[1]), sys.argv[3:]))
