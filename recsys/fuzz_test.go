package recsys

import (
	"bytes"
	"math"
	"os"
	"testing"
)

// FuzzParseRatings: any bytes, in each layout, parse to ratings within the
// scale or fail with an error naming the line.
func FuzzParseRatings(f *testing.F) {
	for _, p := range []string{"testdata/ratings.csv", "testdata/ratings.dat", "testdata/u.data"} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b, uint8(0), false)
		}
	}
	f.Add([]byte("userId,movieId,rating,timestamp\n1,2,NaN,3\n"), uint8(1), true)
	f.Add([]byte("1::2::5::9\n1::2::4::10\n"), uint8(3), false)
	f.Add([]byte("\ufeff1\t2\t3\t4\r\n\n"), uint8(2), false)
	f.Add([]byte("rating,userId,movieId\n1e308,a,b\n"), uint8(1), true)
	f.Fuzz(func(t *testing.T, b []byte, format uint8, skip bool) {
		opt := ReadOptions{Format: []Format{"", CSV, TSV, DAT}[int(format)%4], SkipMalformed: skip}
		d, rep, err := ParseRatings(bytes.NewReader(b), "f", opt)
		if err != nil {
			return
		}
		if len(d.Ratings) == 0 || rep.Rows < len(d.Ratings) {
			t.Fatalf("%d ratings from %d rows", len(d.Ratings), rep.Rows)
		}
		for _, r := range d.Ratings {
			v := float64(r.Value)
			if math.IsNaN(v) || v < DefaultScale.Min || v > DefaultScale.Max {
				t.Fatalf("rating %v outside the scale", v)
			}
			if r.User < 0 || int(r.User) >= d.NumUsers() || r.Item < 0 || int(r.Item) >= d.NumItems() {
				t.Fatalf("rating %+v outside the id maps (%d users, %d items)", r, d.NumUsers(), d.NumItems())
			}
		}
	})
}
