"""The anchor's configuration, for `tapeml bench`: PyTorch's version, its
BLAS_INFO, the BLAS libraries the process loaded and the one whose sgemm_
it calls (and OpenBLAS's kernel set, when that is OpenBLAS), a float32 product checked against
float64, and torch.mm's GFLOP/s at 1024² on the given threads. Prints one
JSON object.

    /usr/bin/python3 tools/pytorch/anchor.py --threads 2
"""
import argparse
import ctypes
import json
import os
import re
import time

import torch


def loaded_blas():
    """The BLAS shared objects mapped into this process."""
    libs = set()
    with open("/proc/self/maps") as f:
        for line in f:
            path = line.split()[-1]
            name = os.path.basename(path)
            if "blas" in name or "mkl" in name or "blis" in name:
                libs.add(path)
    return sorted(libs)


class DlInfo(ctypes.Structure):
    _fields_ = [("dli_fname", ctypes.c_char_p), ("dli_fbase", ctypes.c_void_p),
                ("dli_sname", ctypes.c_char_p), ("dli_saddr", ctypes.c_void_p)]


def sgemm_provider():
    """The object whose sgemm_ PyTorch calls, and OpenBLAS's kernel set if
    that object is OpenBLAS. dlopen by soname returns the libblas.so.3
    torch already loaded; its sgemm_ is what the dynamic linker bound."""
    try:
        blas = ctypes.CDLL("libblas.so.3")
        sgemm = blas.sgemm_
    except (OSError, AttributeError):
        return None, None
    info = DlInfo()
    libc = ctypes.CDLL(None)
    libc.dladdr.argtypes = [ctypes.c_void_p, ctypes.POINTER(DlInfo)]
    path = None
    if libc.dladdr(ctypes.cast(sgemm, ctypes.c_void_p), ctypes.byref(info)):
        path = os.path.realpath(info.dli_fname.decode())
    core = None
    try:
        f = blas.openblas_get_corename
        f.restype = ctypes.c_char_p
        core = f().decode()
    except AttributeError:
        pass
    return path, core


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--rounds", type=int, default=20)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)

    # A product checked against float64 first: a kernel set that computes
    # wrong results must not become the anchor.
    a64, b64 = torch.randn(257, 311, dtype=torch.float64), torch.randn(311, 263, dtype=torch.float64)
    want = a64 @ b64
    got = (a64.float() @ b64.float()).double()
    scale = (a64.abs() @ b64.abs()).clamp_min(1e-30)
    check = float(((got - want).abs() / scale).max())

    n = args.size
    x, y = torch.randn(n, n), torch.randn(n, n)
    for _ in range(3):
        torch.mm(x, y)
    best = float("inf")
    for _ in range(args.rounds):
        t = time.perf_counter()
        torch.mm(x, y)
        best = min(best, time.perf_counter() - t)

    info = torch.__config__.show()
    m = re.search(r"BLAS_INFO=([^,\s]+)", info)
    libs = loaded_blas()
    provider, core = sgemm_provider()
    print(json.dumps({
        "sgemm_from": provider,
        "torch": torch.__version__,
        "blas_info": m.group(1) if m else "",
        "libblas": [os.path.realpath(p) for p in libs],
        "openblas_core": core,
        "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"),
        "threads": args.threads,
        "check_rel_err": check,
        "mm_size": n,
        "mm_gflops": 2 * n**3 / best / 1e9,
    }))


if __name__ == "__main__":
    main()
