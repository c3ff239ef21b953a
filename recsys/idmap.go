package recsys

import (
	"encoding/json"
	"fmt"
)

// IDMap maps the raw ids of a ratings file ("1", "296", "tt0111161") to
// dense indices 0..Len()−1, in order of first appearance, and back. Models
// index their tables by the dense index; the map is saved with them so that
// raw ids mean the same thing after loading.
//
// It marshals to JSON as the array of raw ids in index order.
type IDMap struct {
	raw   []string
	index map[string]int
}

// NewIDMap returns a map holding ids, indexed in the order given. A repeated
// id is an error.
func NewIDMap(ids ...string) (*IDMap, error) {
	m := &IDMap{index: make(map[string]int, len(ids))}
	for i, id := range ids {
		if j, ok := m.index[id]; ok {
			return nil, fmt.Errorf("id map: id %q appears at positions %d and %d", id, j, i)
		}
		m.Add(id)
	}
	return m, nil
}

// Add returns the index of raw, giving it the next index if it is new.
func (m *IDMap) Add(raw string) int {
	if m.index == nil {
		m.index = map[string]int{}
	}
	if i, ok := m.index[raw]; ok {
		return i
	}
	i := len(m.raw)
	m.raw = append(m.raw, raw)
	m.index[raw] = i
	return i
}

// Index returns the dense index of raw, and false if raw is unknown.
func (m *IDMap) Index(raw string) (int, bool) {
	i, ok := m.index[raw]
	if !ok {
		return -1, false
	}
	return i, true
}

// Raw returns the raw id of index i, and "" when i is out of range.
func (m *IDMap) Raw(i int) string {
	if i < 0 || i >= len(m.raw) {
		return ""
	}
	return m.raw[i]
}

// Len is the number of ids.
func (m *IDMap) Len() int { return len(m.raw) }

// MarshalJSON writes the raw ids in index order.
func (m *IDMap) MarshalJSON() ([]byte, error) {
	if m.raw == nil {
		return []byte("[]"), nil
	}
	return json.Marshal(m.raw)
}

// UnmarshalJSON reads an array of distinct raw ids.
func (m *IDMap) UnmarshalJSON(b []byte) error {
	var ids []string
	if err := json.Unmarshal(b, &ids); err != nil {
		return fmt.Errorf("id map: expected a JSON array of id strings: %w", err)
	}
	n, err := NewIDMap(ids...)
	if err != nil {
		return err
	}
	*m = *n
	return nil
}
