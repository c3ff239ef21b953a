#!/usr/bin/python3
"""Writes tokenizer_golden.json from tokenizer_cases.json with the real Keras.

The golden file pins text.Tokenizer and text.PadSequences to Keras's
keras_preprocessing Tokenizer and pad_sequences. It is checked in, so
`go test` needs no Python. To regenerate (Debian):

    apt-get install python3-keras-preprocessing
    cd text/testdata && /usr/bin/python3 keras_golden.py

`go test ./text -update` rewrites the same file from the Go code instead;
run this script afterwards (its diff must be empty) before trusting it.
"""
import json

from keras_preprocessing.sequence import pad_sequences
from keras_preprocessing.text import Tokenizer, text_to_word_sequence

with open("tokenizer_cases.json", encoding="utf-8") as f:
    cases = json.load(f)

out = {"tokenizer": [], "pad": []}
for case in cases["tokenizer"]:
    cfg = case.get("config", {})
    tok = Tokenizer(**cfg)
    for texts in case["fit"]:
        tok.fit_on_texts(texts)
    word_args = {k: v for k, v in cfg.items() if k in ("filters", "lower", "split")}
    out["tokenizer"].append({
        "name": case["name"],
        "word_counts": [[w, c] for w, c in tok.word_counts.items()],
        "word_index": tok.word_index,
        "document_count": tok.document_count,
        "words": [text_to_word_sequence(t, **word_args) for t in case["texts"]],
        "sequences": tok.texts_to_sequences(case["texts"]),
    })

for case in cases["pad"]:
    args = {k: case[k] for k in ("maxlen", "padding", "truncating", "value") if k in case}
    entry = {"name": case["name"]}
    try:
        entry["padded"] = pad_sequences(case["seqs"], **args).tolist()
    except ValueError as e:
        entry["error"] = True
    out["pad"].append(entry)

with open("tokenizer_golden.json", "w", encoding="utf-8") as f:
    json.dump(out, f, ensure_ascii=False, indent=1, sort_keys=True)
    f.write("\n")
