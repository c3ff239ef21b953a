#!/usr/bin/env python3
"""Expected WordPiece tokenizations for text/wordpiece_test.go, computed by
Python with BERT's algorithm as Google's tokenization.py and Hugging Face's
BertTokenizer define it, so that Python's own unicodedata categories, NFD
and str.lower decide every case (run with Debian's /usr/bin/python3):

    /usr/bin/python3 text/testdata/wordpiece/wordpiece_golden.py > text/testdata/wordpiece/golden.json

Written for tapeml from the published algorithm (no transformers install
is possible here): _clean_text, _tokenize_chinese_chars, whitespace split,
lower() and NFD accent stripping, punctuation split, then greedy
longest-match-first WordPiece with "##" continuations and [UNK] for words
over max_input_chars_per_word characters; special tokens in the text stay
whole.
"""
import json
import os
import sys
import unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))
SPECIALS = ["[UNK]", "[SEP]", "[PAD]", "[CLS]", "[MASK]"]


def is_whitespace(c):
    return c in " \t\n\r" or unicodedata.category(c) == "Zs"


def is_control(c):
    return c not in "\t\n\r" and unicodedata.category(c).startswith("C")


def is_punct(c):
    cp = ord(c)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(c).startswith("P")


def is_cjk(cp):
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF or 0x2A700 <= cp <= 0x2B73F
            or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


def basic(text, lower, strip):
    text = "".join(" " if is_whitespace(c) else c for c in text if not (ord(c) in (0, 0xFFFD) or is_control(c)))
    text = "".join(f" {c} " if is_cjk(ord(c)) else c for c in text)
    out = []
    for tok in text.strip().split():
        if lower:
            tok = tok.lower()
        if strip:
            tok = "".join(c for c in unicodedata.normalize("NFD", tok) if unicodedata.category(c) != "Mn")
        word = ""
        for c in tok:
            if is_punct(c):
                if word:
                    out.append(word)
                out.append(c)
                word = ""
            else:
                word += c
        if word:
            out.append(word)
    return out


def wordpiece(word, vocab, max_chars=100):
    if len(word) > max_chars:
        return ["[UNK]"]
    pieces, start = [], 0
    while start < len(word):
        end, found = len(word), None
        while start < end:
            sub = word[start:end] if start == 0 else "##" + word[start:end]
            if sub in vocab:
                found = sub
                break
            end -= 1
        if found is None:
            return ["[UNK]"]
        pieces.append(found)
        start = end
    return pieces


def tokenize(text, vocab, lower, strip):
    out, rest = [], text
    while rest:
        at, special = len(rest), None
        for i in range(len(rest)):
            hits = [s for s in SPECIALS if s in vocab and rest.startswith(s, i)]
            if hits:
                at, special = i, max(hits, key=len)
                break
        for w in basic(rest[:at], lower, strip):
            out += wordpiece(w, vocab)
        if special is None:
            break
        out.append(special)
        rest = rest[at + len(special):]
    return out


TEXTS = [
    "Café au lait, naïve résumé — Zoë's CAFÉ!",
    "İstanbul ΣΊΣΥΦΟΣ σας ΣΑΣ Ångström",
    "我爱北京天安门 東京タワー 안녕하세요",
    "Hello,world!!! (test) “quotes” ‹x› 1+1=2 $5 #tag @user",
    "a\x00b\u200bc\x7fd\ufeffe\u00adf\ufffdab",
    "tab\there\u3000ideographic\u2028line\xa0nbsp\u2003em",
    "a" * 100 + " " + "a" * 101 + " " + "é" * 101,
    "unwanted [MASK] running[SEP]x [CLS]",
    "😀 ok \U0001F600ok",
    "HeLLo Hello hello \u0130",
    "",
    "   \n\t ",
    "x\u0301 e\u0301 \u00e9",
]


def main():
    with open(os.path.join(HERE, "vocab.txt"), encoding="utf-8") as f:
        vocab = {t.rstrip("\n"): i for i, t in enumerate(f)}
    cases = []
    for lower, strip in ((True, True), (False, False), (True, False), (False, True)):
        for text in TEXTS:
            cases.append({"text": text, "lowercase": lower, "strip_accents": strip,
                          "basic": basic(text, lower, strip), "tokens": tokenize(text, vocab, lower, strip)})
    json.dump({"generator": "text/testdata/wordpiece/wordpiece_golden.py, Python " + sys.version.split()[0]
               + ", unicodedata " + unicodedata.unidata_version, "cases": cases},
              sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
