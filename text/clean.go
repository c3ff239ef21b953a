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

	// KeepHTML keeps HTML markup, and an e-mail's body as written. Default
	// false: an e-mail's body is decoded (MIME transfer encodings and
	// charsets) and HTML is reduced to its text.
	KeepHTML bool
}

// Clean prepares one text as o says. Loaders call it on every text, and a
// model's codec on every text it predicts.
//
// A text "is an e-mail" when it starts with a header block: its lines up to
// the first blank line are all RFC 5322 header fields ("Name: value"),
// their folded continuations (lines starting with a space or tab) or a
// leading mbox "From " line. Other texts are left whole — a text starting
// "Subject: ..." without a blank line after it, a CSV field — except that,
// unless o.KeepHTML, an HTML document among them is reduced to its text.
//
// An e-mail is read as MIME (RFC 2045–2049), with o's choices:
//
//   - The header block is dropped, or with o.KeepHeaders kept one field a
//     line, unfolded, RFC 2047 encoded words decoded.
//   - With o.KeepHTML the body is kept as written (no decoding at all).
//     Otherwise the body's text is decoded: base64 and quoted-printable
//     transfer encodings are undone and the charset (ISO-8859-x,
//     Windows-125x, KOI8-R, GB2312/GBK, Big5, Shift_JIS, EUC-KR, ...; see
//     golang.org/x/text/encoding/htmlindex) is converted to UTF-8. Text
//     without a charset that is not valid UTF-8 is read as Windows-1252,
//     as browsers do.
//   - Of a multipart/alternative the text/plain part is kept (unless it is
//     empty), else the first other part with text; of other multiparts
//     (mixed, related, ...) every text part, in order, a line break
//     between them. Attachments (Content-Disposition: attachment) and
//     parts that are not text (images, applications) are skipped, as are
//     the preamble and epilogue around the parts. A forwarded message
//     (message/rfc822) is read as a message.
//   - A text/html part, or a text/plain one holding an <html, <body,
//     <div, <p, <br, <table, <font or <a tag, is reduced to its text with
//     an HTML tokenizer: tags and comments go, entities are decoded,
//     script and style contents are dropped, block elements become line
//     breaks, white space within a line (no-break spaces included)
//     collapses to one space, and runs of blank lines become one. Other
//     plain text is kept, since it may well contain "<name@example.com>".
//
// Broken mail is read as far as it goes: a multipart whose boundary is
// missing or never occurs is read as plain text, a truncated or malformed
// part ends its multipart with the parts before it kept, broken base64 or
// quoted-printable keeps what decoded. The work is bounded by the input's
// size and by MaxMailDepth, MaxMailParts, MaxMailText and MaxMailLine.
func (o CleanOptions) Clean(s string) string {
	if o.KeepHeaders && o.KeepHTML {
		return s
	}
	if header, body := splitHeader(s); header != "" {
		if fields, ok := headerFields(header); ok {
			if o.KeepHTML {
				return body
			}
			return o.cleanMail(fields, body)
		}
	}
	if !o.KeepHTML && looksHTML(strings.ToLower(s)) {
		return htmlToText(s)
	}
	return s
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

var htmlMarkers = []string{"<html", "<body", "<div", "<p>", "<p ", "<br", "<table", "<font", "<a "}

// looksHTML reports whether a lower-cased text holds one of htmlMarkers.
func looksHTML(lower string) bool {
	for _, m := range htmlMarkers {
		if strings.Contains(lower, m) {
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
