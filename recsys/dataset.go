package recsys

import (
	"fmt"
	"math"
	"slices"
)

// Rating is one (user, item, rating) triple with dense indices.
type Rating struct {
	User  int32   // index in the Dataset's Users map
	Item  int32   // index in the Dataset's Items map
	Value float32 // the rating, within the Dataset's Scale
	Time  int64   // Unix seconds; 0 when the file has no timestamps
}

// Scale is the range ratings may take.
type Scale struct {
	Min float64 `json:"min"` // default 0.5 (MovieLens half stars)
	Max float64 `json:"max"` // default 5
}

// DefaultScale is MovieLens's: 0.5 to 5 stars.
var DefaultScale = Scale{Min: 0.5, Max: 5}

// orDefault returns s, or DefaultScale when s is the zero value.
func (s Scale) orDefault() Scale {
	if s == (Scale{}) {
		return DefaultScale
	}
	return s
}

// Validate refuses a scale whose min is not below its max, or whose ends
// are not finite — in float32 too, where ratings and predictions live: a
// scale of [1e-300, 2e-300] is [0, 0] there, one of ±1e39 infinite.
func (s Scale) Validate() error {
	lo, hi := float32(s.Min), float32(s.Max)
	if !(s.Min < s.Max) || math.IsInf(s.Min, 0) || math.IsInf(s.Max, 0) || !(lo < hi) || math.IsInf(float64(lo), 0) || math.IsInf(float64(hi), 0) {
		return fmt.Errorf("rating scale [%v, %v]: min must be below max, both finite (in float32 too)", s.Min, s.Max)
	}
	return nil
}

// Contains reports whether v is within the scale.
func (s Scale) Contains(v float64) bool { return v >= s.Min && v <= s.Max }

// Clip limits v to the scale.
func (s Scale) Clip(v float64) float64 { return min(max(v, s.Min), s.Max) }

// Dataset is a set of ratings with the id maps that give their indices a
// meaning. Splits of a dataset share its maps, so a user has the same index
// in the training and the test ratings.
type Dataset struct {
	Ratings []Rating
	Users   *IDMap
	Items   *IDMap
	Scale   Scale
	Source  string // the file it was read from, or a description ("synthetic: …")
}

// NumUsers and NumItems are the sizes of the index spaces, which every model
// of this dataset uses for its tables.
func (d *Dataset) NumUsers() int { return d.Users.Len() }

// NumItems is the number of item indices.
func (d *Dataset) NumItems() int { return d.Items.Len() }

// With returns a dataset over the same maps and scale holding ratings (a
// split of d).
func (d *Dataset) With(ratings []Rating) *Dataset {
	return &Dataset{Ratings: ratings, Users: d.Users, Items: d.Items, Scale: d.Scale, Source: d.Source}
}

// Stats summarises a set of ratings.
type Stats struct {
	Ratings, Users, Items int     // ratings, and users and items with at least one
	Mean, SD              float64 // of the rating values
	Density               float64 // ratings / (users × items)
}

// Summarize computes the statistics of rs.
func Summarize(rs []Rating) Stats {
	var s Stats
	users, items := map[int32]bool{}, map[int32]bool{}
	var sum, sq float64
	for _, r := range rs {
		users[r.User], items[r.Item] = true, true
		sum += float64(r.Value)
	}
	s.Ratings, s.Users, s.Items = len(rs), len(users), len(items)
	if len(rs) == 0 {
		return s
	}
	s.Mean = sum / float64(len(rs))
	for _, r := range rs {
		d := float64(r.Value) - s.Mean
		sq += d * d
	}
	s.SD = math.Sqrt(sq / float64(len(rs)))
	s.Density = float64(len(rs)) / (float64(s.Users) * float64(s.Items))
	return s
}

func (s Stats) String() string {
	return fmt.Sprintf("%d ratings, %d users, %d items, mean %.3f, sd %.3f, density %.4f",
		s.Ratings, s.Users, s.Items, s.Mean, s.SD, s.Density)
}

// Matrix is a set of ratings indexed both ways, as compressed sparse rows:
// each user's ratings sorted by item, and each item's sorted by user. Every
// model reads its training data through a Matrix.
type Matrix struct {
	NumUsers, NumItems int
	Mean               float64 // the mean rating; 0 when empty
	byUser, byItem     sparse
}

// sparse holds rows of (index, value) pairs: row r is
// index[start[r]:start[r+1]].
type sparse struct {
	start []int
	index []int32
	value []float32
}

func (s *sparse) row(r int) ([]int32, []float32) {
	if r < 0 || r+1 >= len(s.start) {
		return nil, nil
	}
	a, b := s.start[r], s.start[r+1]
	return s.index[a:b], s.value[a:b]
}

// NewMatrix indexes ratings over users × items. Ratings must have distinct
// (user, item) pairs (the readers ensure it) and indices within range.
func NewMatrix(ratings []Rating, users, items int) (*Matrix, error) {
	m := &Matrix{NumUsers: users, NumItems: items}
	var sum float64
	for k, r := range ratings {
		if r.User < 0 || int(r.User) >= users || r.Item < 0 || int(r.Item) >= items {
			return nil, fmt.Errorf("rating %d: user %d, item %d outside %d users × %d items", k, r.User, r.Item, users, items)
		}
		sum += float64(r.Value)
	}
	if len(ratings) > 0 {
		m.Mean = sum / float64(len(ratings))
	}
	m.byUser = compress(ratings, users, func(r Rating) (int32, int32) { return r.User, r.Item })
	m.byItem = compress(ratings, items, func(r Rating) (int32, int32) { return r.Item, r.User })
	for u := 0; u < users; u++ {
		idx, _ := m.byUser.row(u)
		for k := 1; k < len(idx); k++ {
			if idx[k] == idx[k-1] {
				return nil, fmt.Errorf("user %d rated item %d twice", u, idx[k])
			}
		}
	}
	return m, nil
}

// compress builds the rows keyed by key(r) = (row, column), each sorted by
// column.
func compress(ratings []Rating, rows int, key func(Rating) (int32, int32)) sparse {
	s := sparse{start: make([]int, rows+1), index: make([]int32, len(ratings)), value: make([]float32, len(ratings))}
	for _, r := range ratings {
		row, _ := key(r)
		s.start[row+1]++
	}
	for i := 0; i < rows; i++ {
		s.start[i+1] += s.start[i]
	}
	next := slices.Clone(s.start[:rows])
	for _, r := range ratings {
		row, col := key(r)
		s.index[next[row]], s.value[next[row]] = col, r.Value
		next[row]++
	}
	for i := 0; i < rows; i++ {
		a, b := s.start[i], s.start[i+1]
		sortPairs(s.index[a:b], s.value[a:b])
	}
	return s
}

// sortPairs sorts idx ascending, moving val along.
func sortPairs(idx []int32, val []float32) {
	if slices.IsSorted(idx) {
		return
	}
	type pair struct {
		i int32
		v float32
	}
	ps := make([]pair, len(idx))
	for k := range idx {
		ps[k] = pair{idx[k], val[k]}
	}
	slices.SortFunc(ps, func(a, b pair) int { return int(a.i) - int(b.i) })
	for k, p := range ps {
		idx[k], val[k] = p.i, p.v
	}
}

// UserRow returns the items user u rated, ascending, and the ratings. An
// index out of range gives empty slices.
func (m *Matrix) UserRow(u int) (items []int32, ratings []float32) { return m.byUser.row(u) }

// ItemColumn returns the users who rated item i, ascending, and the ratings.
func (m *Matrix) ItemColumn(i int) (users []int32, ratings []float32) { return m.byItem.row(i) }

// Rating returns u's rating of i, and false if there is none.
func (m *Matrix) Rating(u, i int) (float32, bool) {
	items, vals := m.UserRow(u)
	k, ok := slices.BinarySearch(items, int32(i))
	if !ok {
		return 0, false
	}
	return vals[k], true
}

// UserCount and ItemCount are the number of ratings of a user or an item (0
// out of range).
func (m *Matrix) UserCount(u int) int { idx, _ := m.UserRow(u); return len(idx) }

// ItemCount is the number of ratings item i has.
func (m *Matrix) ItemCount(i int) int { idx, _ := m.ItemColumn(i); return len(idx) }

// Len is the number of ratings.
func (m *Matrix) Len() int { return len(m.byUser.index) }

// Ratings returns the ratings, by user then item.
func (m *Matrix) Ratings() []Rating {
	out := make([]Rating, 0, m.Len())
	for u := 0; u < m.NumUsers; u++ {
		items, vals := m.UserRow(u)
		for k, i := range items {
			out = append(out, Rating{User: int32(u), Item: i, Value: vals[k]})
		}
	}
	return out
}
