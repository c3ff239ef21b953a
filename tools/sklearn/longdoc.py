#!/usr/bin/python3
"""Compare tapeml's fasttext kind with TF-IDF + logistic regression
(scikit-learn) on a multi-class corpus of long documents, in one run.

The corpus is assembled from this machine's manual pages, classified by
section — 1 user commands, 2 system calls, 3 library functions, 5 file
formats, 7 overviews, 8 administration — at most PER_CLASS pages per section
(seeded sample), each page's roff source reduced to text: comments and the
.TH line (which names the section) dropped, macros' arguments kept, font
and escape sequences removed. It is never committed: man pages differ
between machines, so compare figures within one run only.

    apt-get install python3-sklearn        # Debian's scikit-learn, for /usr/bin/python3
    go build -o /tmp/tapeml ./cmd/tapeml
    /usr/bin/python3 tools/sklearn/longdoc.py --tapeml /tmp/tapeml --work /tmp/longdoc

It writes WORK/data/{train,test}/<section>/*.txt (an aclImdb-style folder:
tapeml holds out 10% of train for validation, scikit-learn trains on all of
train), then trains and prints test accuracy and macro-F1 on the same
test pages for:

- TF-IDF + LogisticRegression with scikit-learn's defaults;
- TF-IDF of unigrams and bigrams (sublinear tf, min_df 2) + LogisticRegression(C=10);
- `tapeml train fasttext --data WORK/data --seed 1` with its defaults
  (maxlen 1000, half the training texts cropped to short spans each epoch);
- the same with the long-document flags --maxlen 3000 --crop 0 --epochs 30.
"""
import argparse
import glob
import gzip
import json
import os
import random
import re
import subprocess
import time

SECTIONS = {"1": "commands", "2": "syscalls", "3": "libfuncs", "5": "formats", "7": "overviews", "8": "admin"}
PER_CLASS = 400
TEST_SHARE = 0.2
MIN_CHARS = 1500


def roff_to_text(src):
    out = []
    for line in src.splitlines():
        if line.startswith(('.\\"', "'\\\"")) or line.startswith(".TH") or line.startswith(".so"):
            continue
        if line.startswith((".", "'")):
            parts = line[1:].split(None, 1)
            line = parts[1] if len(parts) > 1 else ""
        line = re.sub(r"\\f(\[[^]]*\]|\(..|.)", "", line)  # fonts
        line = re.sub(r"\\\*(\[[^]]*\]|\(..|.)", "", line)  # strings
        line = re.sub(r"\\\((..)", " ", line)  # special characters
        line = re.sub(r"\\[-e&|^ ]", lambda m: "-" if m.group(0) == "\\-" else " ", line)
        line = line.replace('"', " ")
        out.append(line)
    return re.sub(r"[ \t]+", " ", "\n".join(out)).strip()


def assemble(root, rng):
    docs = {}
    for sec, name in SECTIONS.items():
        pages = []
        for path in sorted(glob.glob(f"/usr/share/man/man{sec}/*.{sec}.gz")):
            if os.path.islink(path):
                continue
            try:
                text = roff_to_text(gzip.open(path).read().decode("utf-8", "replace"))
            except (OSError, EOFError):
                continue
            if len(text) >= MIN_CHARS:
                pages.append((os.path.basename(path)[:-3], text))
        rng.shuffle(pages)
        docs[name] = pages[:PER_CLASS]
    for name, pages in docs.items():
        n_test = int(len(pages) * TEST_SHARE)
        for i, (page, text) in enumerate(pages):
            split = "test" if i < n_test else "train"
            d = os.path.join(root, split, name)
            os.makedirs(d, exist_ok=True)
            with open(os.path.join(d, page + ".txt"), "w") as f:
                f.write(text)
    return {n: len(p) for n, p in docs.items()}


def read_split(root, split):
    texts, labels = [], []
    for name in sorted(SECTIONS.values()):
        for path in sorted(glob.glob(os.path.join(root, split, name, "*.txt"))):
            texts.append(open(path).read())
            labels.append(name)
    return texts, labels


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tapeml", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    data = os.path.join(args.work, "data")
    if os.path.exists(data):
        raise SystemExit(f"{data} exists: give a fresh --work")
    counts = assemble(data, random.Random(args.seed))
    train_x, train_y = read_split(data, "train")
    test_x, test_y = read_split(data, "test")
    words = sum(len(t.split()) for t in train_x) / len(train_x)
    print(f"corpus: {counts} pages; {len(train_x)} train, {len(test_x)} test; {words:.0f} words per training page")

    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score

    for name, vec, clf in [
        ("tfidf+logreg, scikit-learn defaults", TfidfVectorizer(), LogisticRegression(max_iter=2000)),
        ("tfidf (1-2 grams, sublinear, min_df 2)+logreg C=10", TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2), min_df=2),
         LogisticRegression(C=10, max_iter=2000)),
    ]:
        start = time.time()
        clf.fit(vec.fit_transform(train_x), train_y)
        pred = clf.predict(vec.transform(test_x))
        print(f"{name}: accuracy {accuracy_score(test_y, pred):.4f}, macro-F1 {f1_score(test_y, pred, average='macro'):.4f} ({time.time() - start:.1f} s)")

    # --keep-headers: a page's first lines are not an e-mail header.
    for name, flags in [("defaults", []), ("--maxlen 3000 --crop 0 --epochs 30", ["--maxlen", "3000", "--crop", "0", "--epochs", "30"])]:
        run = os.path.join(args.work, "fasttext-" + str(len(flags)))
        start = time.time()
        subprocess.run([args.tapeml, "train", "fasttext", "--data", data, "--seed", str(args.seed), "--keep-headers", "--out", run] + flags,
                       check=True, stdout=subprocess.DEVNULL)
        took = time.time() - start
        ev = json.loads(subprocess.run([args.tapeml, "eval", "--checkpoint", run, "--json"], check=True, capture_output=True, text=True).stdout)
        print(f"tapeml fasttext {name}: accuracy {ev['accuracy']:.4f}, macro-F1 {ev['macro_f1']:.4f} on {ev['n']} test pages ({took:.1f} s)")


if __name__ == "__main__":
    main()
