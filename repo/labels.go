package repo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/tapeml/tapeml/atomicfile"
	"github.com/tapeml/tapeml/internal/safeio"
)

// Names of a model folder's files.
const (
	ConfigFile  = "config.json"
	HistoryFile = "label-history.json"
)

// maxConfigBytes and maxHistoryBytes bound the reads of config.json (as
// serve bounds it) and of the history (a move is about 150 bytes: some
// 100,000 moves).
const (
	maxConfigBytes  = 1 << 20
	maxHistoryBytes = 16 << 20
)

// Move is one label move in the history.
type Move struct {
	Label string `json:"label"`
	// From is the version the label named before (0: none), To the one
	// it names after (0: removed).
	From int64     `json:"from"`
	To   int64     `json:"to"`
	Who  string    `json:"who"`
	When time.Time `json:"when"`
	// Action is "promote", "publish" or "rollback"; a rollback's Undoes is
	// the index of the move it undid.
	Action string `json:"action"`
	Undoes *int   `json:"undoes,omitempty"`
}

// History is label-history.json.
type History struct {
	Moves []Move `json:"moves"`
}

// LabelOptions says who moves a label and when; zero values mean the user
// and the clock.
type LabelOptions struct {
	Who  string
	Now  func() time.Time
	Wait time.Duration // for the model's lock, as PublishOptions.Wait
}

func (o LabelOptions) stamp() (string, time.Time) {
	who, now := o.Who, time.Now
	if who == "" {
		who = whoami()
	}
	if o.Now != nil {
		now = o.Now
	}
	return who, now().UTC().Truncate(time.Second)
}

// Promote points label at version of the model: it edits config.json's
// labels atomically, leaving its other settings as they are, and records
// the move in the history. The version must be in the repository.
func Promote(ctx context.Context, repoDir, name, label string, version int64, opt LabelOptions) (Move, error) {
	if err := CheckName(name); err != nil {
		return Move{}, err
	}
	if err := checkLabel(label); err != nil {
		return Move{}, err
	}
	mdir := filepath.Join(repoDir, name)
	if info, err := os.Stat(filepath.Join(mdir, strconv.FormatInt(version, 10))); err != nil || !info.IsDir() {
		return Move{}, fmt.Errorf("model %s has no version %d in %s", name, version, repoDir)
	}
	unlock, err := lockModel(ctx, mdir, opt.Wait)
	if err != nil {
		return Move{}, err
	}
	defer unlock()
	who, when := opt.stamp()
	return moveLabel(mdir, label, version, who, when, "promote")
}

// Rollback undoes the label's last move that is not undone yet: the label
// goes back to the version it named before (or is removed if it named
// none). It refuses when config.json no longer says what that move set
// (edited by hand since), rather than guess.
func Rollback(ctx context.Context, repoDir, name, label string, opt LabelOptions) (Move, error) {
	if err := CheckName(name); err != nil {
		return Move{}, err
	}
	if err := checkLabel(label); err != nil {
		return Move{}, err
	}
	mdir := filepath.Join(repoDir, name)
	unlock, err := lockModel(ctx, mdir, opt.Wait)
	if err != nil {
		return Move{}, err
	}
	defer unlock()
	h, err := ReadHistory(mdir)
	if err != nil {
		return Move{}, err
	}
	undone := map[int]bool{}
	for _, m := range h.Moves {
		if m.Undoes != nil {
			undone[*m.Undoes] = true
		}
	}
	last := -1
	for i := len(h.Moves) - 1; i >= 0; i-- {
		m := h.Moves[i]
		if m.Label == label && m.Undoes == nil && !undone[i] {
			last = i
			break
		}
	}
	if last < 0 {
		return Move{}, fmt.Errorf("model %s: label %q has no move to roll back in %s", name, label, filepath.Join(mdir, HistoryFile))
	}
	cfg, labels, err := readConfigLabels(mdir)
	if err != nil {
		return Move{}, err
	}
	m := h.Moves[last]
	if now := labels[label]; now != m.To {
		return Move{}, fmt.Errorf("model %s: label %q names version %d, but its last recorded move (%s, %s) set it to %d: config.json was changed by hand; promote explicitly",
			name, label, now, m.Action, m.When.Format(time.RFC3339), m.To)
	}
	who, when := opt.stamp()
	back := Move{Label: label, From: m.To, To: m.From, Who: who, When: when, Action: "rollback", Undoes: &last}
	h.Moves = append(h.Moves, back)
	if err := writeHistory(mdir, h); err != nil {
		return Move{}, err
	}
	if back.To == 0 {
		delete(labels, label)
	} else {
		labels[label] = back.To
	}
	return back, writeConfigLabels(mdir, cfg, labels)
}

// moveLabel records and makes a move; the caller holds the lock. The
// history is written first: a kill between the two leaves a recorded move
// that config.json does not show, which Rollback notices and refuses.
func moveLabel(mdir, label string, to int64, who string, when time.Time, action string) (Move, error) {
	cfg, labels, err := readConfigLabels(mdir)
	if err != nil {
		return Move{}, err
	}
	h, err := ReadHistory(mdir)
	if err != nil {
		return Move{}, err
	}
	m := Move{Label: label, From: labels[label], To: to, Who: who, When: when, Action: action}
	h.Moves = append(h.Moves, m)
	if err := writeHistory(mdir, h); err != nil {
		return Move{}, err
	}
	labels[label] = to
	return m, writeConfigLabels(mdir, cfg, labels)
}

// checkLabel accepts a label serve can route to: a name that is not a
// number (that would read as a version) and fits in a URL path segment.
func checkLabel(label string) error {
	if label == "" || len(label) > 100 || strings.ContainsAny(label, "/\\?#%: \t\n") {
		return fmt.Errorf("label %q: want a short name without separators or spaces", label)
	}
	if _, err := strconv.ParseInt(label, 10, 64); err == nil {
		return fmt.Errorf("label %q: a number would read as a version", label)
	}
	return nil
}

// readConfigLabels reads config.json as its keys' raw values, with its
// labels decoded; a missing file is an empty configuration.
func readConfigLabels(mdir string) (map[string]json.RawMessage, map[string]int64, error) {
	path := filepath.Join(mdir, ConfigFile)
	cfg := map[string]json.RawMessage{}
	labels := map[string]int64{}
	b, err := safeio.ReadFile(path, maxConfigBytes)
	if errors.Is(err, fs.ErrNotExist) {
		return cfg, labels, nil
	}
	if err != nil {
		return nil, nil, err
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	if raw, ok := cfg["labels"]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &labels); err != nil {
			return nil, nil, fmt.Errorf("%s: labels: %w", path, err)
		}
	}
	return cfg, labels, nil
}

// writeConfigLabels replaces config.json with cfg's other keys as they
// were and labels, atomically. A link or special file there is refused:
// it is not this program's to replace (a Kubernetes ConfigMap is edited
// through Kubernetes).
func writeConfigLabels(mdir string, cfg map[string]json.RawMessage, labels map[string]int64) error {
	raw, err := json.Marshal(labels)
	if err != nil {
		return err
	}
	if len(labels) == 0 {
		delete(cfg, "labels")
	} else {
		cfg["labels"] = raw
	}
	out, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteNew(filepath.Join(mdir, ConfigFile), true, func(w io.Writer) error {
		_, err := w.Write(append(out, '\n'))
		return err
	})
}

// ReadHistory reads a model folder's label history; none is empty.
func ReadHistory(mdir string) (*History, error) {
	path := filepath.Join(mdir, HistoryFile)
	h := &History{}
	b, err := safeio.ReadFile(path, maxHistoryBytes)
	if errors.Is(err, fs.ErrNotExist) {
		return h, nil
	}
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(h); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for i, m := range h.Moves {
		if m.Undoes != nil && (*m.Undoes < 0 || *m.Undoes >= i) {
			return nil, fmt.Errorf("%s: move %d undoes move %d, which does not come before it", path, i, *m.Undoes)
		}
	}
	return h, nil
}

func writeHistory(mdir string, h *History) error {
	out, err := json.MarshalIndent(h, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteNew(filepath.Join(mdir, HistoryFile), true, func(w io.Writer) error {
		_, err := w.Write(append(out, '\n'))
		return err
	})
}
