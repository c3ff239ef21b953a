package text

import (
	"encoding/json"
	"testing"
)

// FuzzTokenizerJSON: any JSON decodes to a valid tokenizer or fails with
// an error; a decoded tokenizer encodes texts with ids below VocabSize and
// survives another round trip.
func FuzzTokenizerJSON(f *testing.F) {
	tok := NewTokenizer(TokenizerConfig{NumWords: 5, OOVToken: "<OOV>"})
	tok.Fit([]string{"The cat sat on the mat.", "The dog ate my homework!"})
	good, err := json.Marshal(tok)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`{"split":" ","word_index":{"a":1,"b":1000000000},"word_counts":[["a",1]]}`))
	f.Add([]byte(`{"split":"","word_index":{}}`))
	f.Add([]byte(`{"split":" ","num_words":-1}`))
	f.Add([]byte(`{"split":" ","oov_token":"<OOV>","word_index":{"x":2}}`))
	f.Add([]byte(`{"split":"ab","filters":"\udc00","lower":true,"word_counts":[["a",0]]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var tok Tokenizer
		if err := json.Unmarshal(b, &tok); err != nil {
			return
		}
		v := tok.VocabSize()
		for _, seq := range tok.Sequences([]string{"The cat ate the OOV mat", "", "a b  c"}) {
			for _, id := range seq {
				if id < 1 || id >= v {
					t.Fatalf("id %d outside [1, %d)", id, v)
				}
			}
		}
		again, err := json.Marshal(&tok)
		if err != nil {
			t.Fatal(err)
		}
		var back Tokenizer
		if err := json.Unmarshal(again, &back); err != nil {
			t.Fatalf("a decoded tokenizer does not decode again: %v", err)
		}
	})
}
