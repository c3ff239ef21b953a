package text

// PadSequences is PadFlat as rows, [len(seqs), maxlen]: the form Keras's
// pad_sequences returns, which the Keras goldens compare with.
func PadSequences(seqs [][]int, cfg PadConfig) ([][]int, error) {
	maxLen, padPre, truncPre, err := cfg.resolve(seqs)
	if err != nil {
		return nil, err
	}
	flat := make([]int, len(seqs)*maxLen)
	fillPadded(flat, seqs, maxLen, padPre, truncPre, cfg.Value)
	rows := make([][]int, len(seqs))
	for i := range rows {
		rows[i] = flat[i*maxLen : (i+1)*maxLen : (i+1)*maxLen]
	}
	return rows, nil
}
