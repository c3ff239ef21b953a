package text

import (
	"strings"

	"golang.org/x/net/html"
)

// CleanOptions says how raw texts (e-mails, web pages) are cleaned before
// tokenizing. The zero value is the default: headers dropped, HTML reduced
// to text. A text model saves its options, so prediction cleans as
// training did.
type CleanOptions struct {
	// KeepHeaders keeps an e-mail's RFC 822 header block. Default false:
	// it is dropped when a text starts with one.
	KeepHeaders bool

	// KeepHTML keeps HTML markup. Default false: quoted-printable soft
	// breaks are joined and HTML bodies are reduced to their text.
	KeepHTML bool
}

// Clean prepares one text as o says: unless o.KeepHeaders, it drops the
// header block an e-mail starts with; unless o.KeepHTML, it reduces HTML to
// text. With both set it returns s unchanged. Loaders call it on every text.
//
// A text "starts with a header block" when its lines up to the first blank
// line are all RFC 822 header fields ("Name: value"), their folded
// continuations (lines starting with a space or tab) or a leading mbox
// "From " line. Texts without such a block (or without a blank line after
// it) are left whole, so dropping headers is harmless on texts that are not
// e-mails.
//
// HTML reduction works on the body (the text after the header block, or all of
// it) in two steps, kept deliberately simple rather than parsing MIME:
//
//  1. If the text declares "Content-Transfer-Encoding: quoted-printable"
//     anywhere (a message or one of its parts), soft line breaks ("=" at the
//     end of a line) are joined and "=XX" escapes of ASCII characters (such
//     as =3D for "=" and =20 for a space) are decoded. Escapes of other
//     bytes stay as they are, since their charset is unknown.
//  2. If the header says Content-Type: text/html or the body contains an
//     <html, <body, <div, <p, <br, <table, <font or <a tag, the body is
//     reduced to its text with an HTML tokenizer: tags and comments go,
//     entities are decoded, script and style contents are dropped, block
//     elements become line breaks, white space within a line (no-break
//     spaces included) collapses to one space, and runs of blank lines
//     become one. Other bodies are kept, since a plain-text
//     message may well contain "<name@example.com>".
func (o CleanOptions) Clean(s string) string {
	if o.KeepHeaders && o.KeepHTML {
		return s
	}
	header, body := splitHeader(s)
	if !o.KeepHTML {
		lowerHeader, lowerBody := strings.ToLower(header), strings.ToLower(body)
		if declaresQuotedPrintable(lowerHeader) || declaresQuotedPrintable(lowerBody) {
			body = decodeQuotedPrintable(body)
			lowerBody = strings.ToLower(body)
		}
		if looksHTML(lowerHeader, lowerBody) {
			body = htmlToText(body)
		}
	}
	if !o.KeepHeaders {
		return body
	}
	return header + body
}

// splitHeader splits s after the blank line ending its header block, or
// returns ("", s) if s does not start with one.
func splitHeader(s string) (header, body string) {
	rest := s
	for first := true; ; first = false {
		end := strings.IndexByte(rest, '\n')
		if end < 0 {
			return "", s // no blank line: not a header block
		}
		line := strings.TrimSuffix(rest[:end], "\r")
		rest = rest[end+1:]
		switch {
		case line == "":
			if first {
				return "", s
			}
			return s[:len(s)-len(rest)], rest
		case first && strings.HasPrefix(line, "From "):
		case !first && (line[0] == ' ' || line[0] == '\t'):
		case !isHeaderField(line):
			return "", s
		}
	}
}

// isHeaderField reports whether line is "Name: value" with an RFC 822
// field name: printable ASCII except the colon.
func isHeaderField(line string) bool {
	colon := strings.IndexByte(line, ':')
	if colon < 1 {
		return false
	}
	for i := range colon {
		if c := line[i]; c < '!' || c > '~' {
			return false
		}
	}
	return true
}

func declaresQuotedPrintable(lower string) bool {
	const field = "content-transfer-encoding:"
	for rest := lower; ; {
		i := strings.Index(rest, field)
		if i < 0 {
			return false
		}
		rest = rest[i+len(field):]
		if strings.HasPrefix(strings.TrimLeft(rest, " \t"), "quoted-printable") {
			return true
		}
	}
}

// decodeQuotedPrintable joins soft line breaks and decodes =XX escapes of
// ASCII characters; see Clean.
func decodeQuotedPrintable(s string) string {
	if !strings.Contains(s, "=") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '=' {
			b.WriteByte(c)
			continue
		}
		switch {
		case strings.HasPrefix(s[i+1:], "\n"):
			i++
		case strings.HasPrefix(s[i+1:], "\r\n"):
			i += 2
		case i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) && unhex(s[i+1])<<4|unhex(s[i+2]) < 0x80:
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

var htmlMarkers = []string{"<html", "<body", "<div", "<p>", "<p ", "<br", "<table", "<font", "<a "}

func looksHTML(lowerHeader, lowerBody string) bool {
	if strings.Contains(lowerHeader, "content-type: text/html") {
		return true
	}
	for _, m := range htmlMarkers {
		if strings.Contains(lowerBody, m) {
			return true
		}
	}
	return false
}

// blockTags start a new line in the text of an HTML document.
var blockTags = map[string]bool{
	"address": true, "article": true, "blockquote": true, "br": true, "dd": true, "div": true,
	"dl": true, "dt": true, "footer": true, "form": true, "h1": true, "h2": true, "h3": true,
	"h4": true, "h5": true, "h6": true, "header": true, "hr": true, "li": true, "ol": true,
	"p": true, "pre": true, "section": true, "table": true, "title": true, "tr": true, "ul": true,
}

// cellTags are separated by a space so that adjacent cells' words do not
// run together.
var cellTags = map[string]bool{"td": true, "th": true}

func htmlToText(s string) string {
	z := html.NewTokenizer(strings.NewReader(s))
	var b strings.Builder
	skip := 0 // depth inside script and style
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			break // io.EOF: a strings.Reader has no other errors
		}
		switch tt {
		case html.TextToken:
			if skip == 0 {
				b.Write(z.Text())
			}
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			name, _ := z.TagName()
			tag := string(name)
			switch {
			case tag == "script" || tag == "style":
				if tt == html.StartTagToken {
					skip++
				} else if tt == html.EndTagToken && skip > 0 {
					skip--
				}
			case blockTags[tag]:
				b.WriteByte('\n')
			case cellTags[tag]:
				b.WriteByte(' ')
			}
		}
	}
	return tidyLines(strings.ReplaceAll(b.String(), "\u00a0", " "))
}

// tidyLines collapses the white space of each line and keeps at most one
// blank line in a row.
func tidyLines(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	blank := true // drops leading blank lines
	for line := range strings.Lines(s) {
		line = strings.Join(strings.Fields(line), " ")
		if line == "" {
			if !blank {
				b.WriteByte('\n')
			}
			blank = true
			continue
		}
		b.WriteString(line)
		b.WriteByte('\n')
		blank = false
	}
	out := b.String()
	if blank && out != "" {
		out = out[:len(out)-1] // a trailing blank line
	}
	return out
}
