package samples

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/json"
	"fmt"

	"github.com/tapeml/tapeml/textdata"
)

// spamAssassinFile is the name of the embedded sample, also the prefix of
// its messages' Source.
const spamAssassinFile = "spamassassin.jsonl.gz"

//go:embed spamassassin.jsonl.gz
var spamAssassinGzip []byte

// SpamAssassin returns the built-in e-mail sample as a corpus, cleaned and
// split as opt says (opt.TextColumn and opt.LabelColumn do not apply); the
// zero options drop headers, reduce HTML to text and split with seed 0.
// Classes are ["ham", "spam"], Positive is 1.
func SpamAssassin(opt textdata.TextOptions) (*textdata.TextCorpus, error) {
	msgs, err := SpamAssassinMessages()
	if err != nil {
		return nil, err
	}
	corpus, err := textdata.SpamAssassinCorpus(msgs, opt)
	if err != nil {
		return nil, fmt.Errorf("samples: %s: %w", spamAssassinFile, err)
	}
	return corpus, nil
}

// SpamAssassinGroups returns the built-in e-mail sample as a three-class
// corpus, its groups' kinds: classes ["easy_ham", "hard_ham", "spam"]
// (textdata.SpamAssassinGroupsCorpus), cleaned and split as opt says.
func SpamAssassinGroups(opt textdata.TextOptions) (*textdata.TextCorpus, error) {
	msgs, err := SpamAssassinMessages()
	if err != nil {
		return nil, err
	}
	corpus, err := textdata.SpamAssassinGroupsCorpus(msgs, opt)
	if err != nil {
		return nil, fmt.Errorf("samples: %s: %w", spamAssassinFile, err)
	}
	return corpus, nil
}

// SpamAssassinMessages returns the sample's raw messages, sorted by Source,
// which is "spamassassin.jsonl.gz:<group>/<file>.json".
func SpamAssassinMessages() ([]textdata.SpamAssassinMessage, error) {
	gz, err := gzip.NewReader(bytes.NewReader(spamAssassinGzip))
	if err != nil {
		return nil, fmt.Errorf("samples: %s: %w", spamAssassinFile, err)
	}
	var msgs []textdata.SpamAssassinMessage
	sc := bufio.NewScanner(gz)
	sc.Buffer(nil, 16<<20) // the largest line is about 0.2 MB
	for line := 1; sc.Scan(); line++ {
		var m textdata.SpamAssassinMessage
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			return nil, fmt.Errorf("samples: %s:line %d: %w", spamAssassinFile, line, err)
		}
		m.Source = spamAssassinFile + ":" + m.Source
		msgs = append(msgs, m)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("samples: %s: %w", spamAssassinFile, err)
	}
	return msgs, nil
}
