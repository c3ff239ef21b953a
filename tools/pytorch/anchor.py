"""The anchor's configuration, for `tapeml bench`: PyTorch's version, its
BLAS_INFO, the BLAS library the process actually loaded (and OpenBLAS's
kernel set, when it is OpenBLAS), a float32 product checked against
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


def openblas_core(path):
    try:
        lib = ctypes.CDLL(path)
        f = lib.openblas_get_corename
    except (OSError, AttributeError):
        return None
    f.restype = ctypes.c_char_p
    return f().decode()


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
    core = None
    for p in libs:
        core = core or openblas_core(p)
    print(json.dumps({
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
