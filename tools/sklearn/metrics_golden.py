#!/usr/bin/python3
"""Writes metrics/testdata/sklearn_golden.json: scikit-learn's
classification_report, roc_curve, roc_auc_score, precision_recall_curve and
average_precision_score on fixed inputs, which package metrics's tests
(sklearn_test.go) compare against without Python.

Debian's scikit-learn (python3-sklearn, 1.2) is installed for
/usr/bin/python3, not the pyenv python3 on PATH. From the repository root:

    apt-get install python3-sklearn
    /usr/bin/python3 tools/sklearn/metrics_golden.py
    go test ./metrics -run SKLearn

The inputs are drawn from a seeded generator and written into the golden
too. Scores are float32 values (stored exactly as float64), since tapeml's
scores are float32.
"""
import json
import sys

import numpy as np
import sklearn
from sklearn.metrics import (
    average_precision_score,
    classification_report,
    confusion_matrix,
    precision_recall_curve,
    precision_recall_fscore_support,
    roc_auc_score,
    roc_curve,
)

OUT = "metrics/testdata/sklearn_golden.json"
rng = np.random.default_rng(20250601)


def f32(x):
    return np.asarray(x, dtype=np.float32).astype(np.float64)


def curve_case(name, y, s):
    y = np.asarray(y, dtype=np.int64)
    s = f32(s)
    fpr, tpr, thr = roc_curve(y, s)
    prec, rec, pthr = precision_recall_curve(y, s)
    return {
        "name": name,
        "labels": y.tolist(),
        "scores": s.tolist(),
        "fpr": fpr.tolist(),
        "tpr": tpr.tolist(),
        # thresholds[0] is max+1 before scikit-learn 1.3 and inf since;
        # tapeml writes inf, so the test skips it.
        "roc_thresholds": thr[1:].tolist(),
        "auc": roc_auc_score(y, s),
        "precision": prec.tolist(),
        "recall": rec.tolist(),
        "pr_thresholds": pthr.tolist(),
        "average_precision": average_precision_score(y, s),
    }


def report_case(name, y_true, y_pred, names):
    labels = list(range(len(names)))
    p, r, f, s = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0
    )
    out = {
        "name": name,
        "classes": names,
        "y_true": list(map(int, y_true)),
        "y_pred": list(map(int, y_pred)),
        "confusion": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
        "precision": p.tolist(),
        "recall": r.tolist(),
        "f1": f.tolist(),
        "support": s.tolist(),
    }
    for avg in ("macro", "weighted"):
        ap, ar, af, _ = precision_recall_fscore_support(
            y_true, y_pred, labels=labels, average=avg, zero_division=0
        )
        out[avg] = [ap, ar, af]
    for digits in (2, 4):
        out["text_%d" % digits] = classification_report(
            y_true, y_pred, labels=labels, target_names=names,
            digits=digits, zero_division=0,
        )
    return out


curves = []
# Binary, scores on a coarse grid: many ties.
y = rng.integers(0, 2, 40)
curves.append(curve_case("binary ties", y, np.round(rng.random(40) * 0.6 + 0.4 * y, 1)))
# Binary, distinct scores, 200 examples, imbalanced.
y = (rng.random(200) < 0.3).astype(int)
curves.append(curve_case("binary distinct", y, rng.beta(2 + 3 * y, 3, 200)))
# Perfect separation and a fully inverted ranking.
curves.append(curve_case("perfect", [0, 0, 1, 1, 1], [0.1, 0.2, 0.7, 0.8, 0.9]))
curves.append(curve_case("inverted", [1, 1, 0, 0], [0.1, 0.2, 0.7, 0.8]))
# All scores tied.
curves.append(curve_case("all tied", [0, 1, 0, 1, 1], [0.5] * 5))
# One-vs-rest over 3 classes of softmax probabilities.
n, k = 60, 3
y3 = rng.integers(0, k, n)
logits = rng.normal(size=(n, k)) + 1.5 * np.eye(k)[y3]
probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
probs = f32(probs)
for c in range(k):
    curves.append(curve_case("3-class one-vs-rest %d" % c, (y3 == c).astype(int), probs[:, c]))

reports = []
y_pred3 = probs.argmax(axis=1)
reports.append(report_case("3 classes", y3, y_pred3, ["billing", "bug", "question"]))
y = rng.integers(0, 2, 50)
reports.append(report_case("binary", y, np.where(rng.random(50) < 0.8, y, 1 - y), ["ham", "spam"]))
# A class never predicted (its precision is 0/0).
yt = [0, 0, 1, 1, 2, 2, 2, 3, 3, 3]
yp = [0, 1, 1, 1, 2, 0, 2, 0, 1, 2]
reports.append(report_case("never predicted", yt, yp, ["a", "b", "c", "dee"]))
# A class with neither true nor predicted examples: "micro avg", not "accuracy".
reports.append(report_case("absent class", [0, 1, 1, 0, 2], [0, 1, 0, 0, 2],
                           ["x", "y", "z", "a class with a long name"]))

with open(OUT, "w") as f:
    json.dump({"sklearn": sklearn.__version__, "curves": curves, "reports": reports}, f, indent=1)
    f.write("\n")
print("wrote %s (scikit-learn %s)" % (OUT, sklearn.__version__), file=sys.stderr)
