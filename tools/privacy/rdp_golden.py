"""Goldens for tapeml's privacy package from Opacus's own RDP analysis.

Usage:
    python3 tools/privacy/rdp_golden.py PATH/TO/opacus/accountants/analysis/rdp.py \
        > privacy/testdata/rdp_golden.json

The rdp.py file is imported from the path given (it needs only numpy and
scipy, Debian's python3-numpy and python3-scipy); Opacus is not vendored.
For each (q, sigma, steps) of a grid the JSON holds the RDP at every order of
Opacus's RDPAccountant.DEFAULT_ALPHAS, and for each delta the epsilon and the
optimal order under Opacus's current conversion (get_privacy_spent, Balle et
al. 2020) and under the classic conversion eps = min rdp + log(1/delta)/(a-1).
"""
import importlib.util
import json
import sys
import warnings

import numpy as np


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: rdp_golden.py PATH/TO/opacus/accountants/analysis/rdp.py")
    spec = importlib.util.spec_from_file_location("opacus_rdp", sys.argv[1])
    rdp = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(rdp)
    warnings.simplefilter("ignore")  # "optimal order is the largest alpha"

    # Opacus's RDPAccountant.DEFAULT_ALPHAS.
    orders = [1 + x / 10.0 for x in range(1, 100)] + list(range(12, 64))
    cases = []
    for q in [1e-4, 256 / 60000, 0.01, 0.05, 0.2, 0.5, 1.0]:
        for sigma in [0.3, 0.6, 1.0, 1.12, 2.0, 5.0, 20.0]:
            for steps in [1, 100, 14062]:
                r = rdp.compute_rdp(q=q, noise_multiplier=sigma, steps=steps, orders=orders)
                r = np.asarray(r, dtype=float)
                eps = []
                for delta in [1e-3, 1e-5, 1e-8]:
                    e, o = rdp.get_privacy_spent(orders=orders, rdp=r, delta=delta)
                    oa = np.asarray(orders, dtype=float)
                    c = r - np.log(delta) / (oa - 1)
                    i = int(np.nanargmin(c))
                    eps.append({
                        "delta": delta,
                        "epsilon": float(e), "order": float(o),
                        "classic_epsilon": float(c[i]), "classic_order": float(oa[i]),
                    })
                cases.append({"q": q, "sigma": sigma, "steps": steps,
                              "rdp": [float(x) for x in r], "eps": eps})
    json.dump({"source": "opacus/accountants/analysis/rdp.py", "orders": orders,
               "cases": cases}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
