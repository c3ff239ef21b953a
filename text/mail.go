package text

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/ianaindex"
)

// Limits on the work Clean does for one e-mail, whatever the input holds.
// Past a limit Clean keeps what it has read and skips the rest: a text is
// never an error.
const (
	// MaxMailDepth bounds the nesting of multipart and message/rfc822
	// parts; deeper parts are skipped. Real mail nests three or four
	// levels (mixed > alternative > related).
	MaxMailDepth = 8
	// MaxMailParts bounds the parts read from one message, at all levels
	// together; later parts are skipped.
	MaxMailParts = 256
	// MaxMailText bounds the decoded text of one message, in bytes of
	// UTF-8, headers included; the rest is dropped.
	MaxMailText = 4 << 20
	// MaxMailLine bounds one header field of a message or a part,
	// continuation lines included. A message whose header block has a
	// longer field is not read as an e-mail but as plain text; a part's
	// longer field ends the multipart it is in.
	MaxMailLine = 256 << 10
)

// cleanMail is Clean for an e-mail: its header fields (decoded if kept)
// and the text of its body, read as MIME.
func (o CleanOptions) cleanMail(fields []field, body string) string {
	w := &mailWriter{keepHeaders: o.KeepHeaders}
	if o.KeepHeaders {
		w.writeHeader(fields)
	}
	w.entity(fieldHeader(fields), body, 0)
	return w.b.String()
}

// field is one header field, continuation lines joined.
type field struct {
	name, value string
	raw         bool // an mbox "From " line, kept as written
}

// headerFields unfolds a header block that splitHeader accepted. ok is
// false when a field is longer than MaxMailLine.
func headerFields(block string) (fields []field, ok bool) {
	start, end := -1, 0 // the current field's bytes in block
	flush := func() bool {
		if start < 0 {
			return true
		}
		if end-start > MaxMailLine {
			return false
		}
		// Unfolding removes the line breaks only (RFC 5322 2.2.3).
		f := strings.NewReplacer("\r\n", "", "\n", "").Replace(block[start:end])
		name, value, _ := strings.Cut(f, ":")
		fields = append(fields, field{name: name, value: strings.TrimLeft(value, " \t")})
		start = -1
		return true
	}
	at := 0
	for line := range strings.Lines(block) {
		from := at
		at += len(line)
		line = strings.TrimRight(line, "\r\n")
		switch {
		case line == "":
		case from == 0 && strings.HasPrefix(line, "From "):
			fields = append(fields, field{value: line, raw: true})
		case line[0] == ' ' || line[0] == '\t':
			if start >= 0 {
				end = from + len(line)
			}
		default:
			if !flush() {
				return nil, false
			}
			start, end = from, from+len(line)
		}
	}
	return fields, flush()
}

// fieldHeader indexes fields by canonical name, as net/mail does.
func fieldHeader(fields []field) mail.Header {
	h := mail.Header{}
	for _, f := range fields {
		if !f.raw {
			k := textproto.CanonicalMIMEHeaderKey(f.name)
			h[k] = append(h[k], f.value)
		}
	}
	return h
}

// headerGetter is what mail.Header and textproto.MIMEHeader share.
type headerGetter interface{ Get(key string) string }

// mailWriter collects a message's text within MaxMailText, counting the
// parts it reads against MaxMailParts.
type mailWriter struct {
	b           strings.Builder
	keepHeaders bool
	parts       int
}

// room is how many more bytes of text fit.
func (w *mailWriter) room() int { return MaxMailText - w.b.Len() }

// write appends s, cut at a character boundary if it does not fit.
func (w *mailWriter) write(s string) {
	if len(s) > w.room() {
		s = s[:w.room()]
		for len(s) > 0 && !utf8.ValidString(s[max(0, len(s)-utf8.UTFMax):]) {
			s = s[:len(s)-1] // a character cut in two
		}
	}
	w.b.WriteString(s)
}

// separate starts a new part's text on a line of its own.
func (w *mailWriter) separate() {
	if s := w.b.String(); s != "" && !strings.HasSuffix(s, "\n") {
		w.write("\n")
	}
}

// writeHeader writes decoded header fields, one line each, and the blank
// line that ends them.
func (w *mailWriter) writeHeader(fields []field) {
	for _, f := range fields {
		if f.raw {
			w.write(toUTF8("", []byte(f.value)) + "\n")
			continue
		}
		w.write(f.name + ": " + decodeHeader(f.value) + "\n")
	}
	w.write("\n")
}

// entity writes the text of one MIME entity (a message or a part) whose
// header is h: the chosen alternative of a multipart/alternative, the
// text parts of other multiparts in order, the body of a forwarded
// message, a text part's decoded text; nothing for other parts. depth
// counts the multiparts and messages it is nested in.
func (w *mailWriter) entity(h headerGetter, body string, depth int) {
	media, params := contentType(h.Get("Content-Type"))
	if media == "" || media == "text/plain" && depth == 0 {
		if b := sniffBoundary(body); b != "" {
			media, params = "multipart/mixed", map[string]string{"boundary": b}
		}
	}
	switch {
	case strings.HasPrefix(media, "multipart/"):
		if w.multipart(media, params["boundary"], body, depth) {
			return
		}
		// No part could be read (no boundary, or it never occurs): the
		// body is all there is.
		w.write(textBody(h, "text/plain", "", body))
	case media == "message/rfc822":
		if depth >= MaxMailDepth {
			return
		}
		header, inner := splitHeader(body)
		fields, ok := headerFields(header)
		if header == "" || !ok {
			w.write(textBody(h, "text/plain", "", body))
			return
		}
		if w.keepHeaders {
			w.writeHeader(fields)
		}
		w.entity(fieldHeader(fields), inner, depth+1)
	case media == "" || strings.HasPrefix(media, "text/"):
		w.write(textBody(h, media, params["charset"], body))
	}
}

// sniffBoundary finds the boundary of a multipart body whose message does
// not declare it (its Content-Type is missing or says text/plain, as in
// some spam): one of the body's first 20 lines is "--boundary" and the
// next one a Content- field.
func sniffBoundary(body string) string {
	rest := body
	for i := 0; i < 20 && rest != ""; i++ {
		line, next, _ := strings.Cut(rest, "\n")
		rest = next
		b, ok := strings.CutPrefix(strings.TrimRight(line, " \t\r"), "--")
		if !ok || b == "" || len(b) > 70 {
			continue
		}
		name, _, _ := strings.Cut(rest, ":")
		if strings.HasPrefix(strings.ToLower(name), "content-") && !strings.ContainsAny(name, " \t\n") {
			return b
		}
	}
	return ""
}

// multipart writes the text of a multipart body; ok is false when it has
// no readable part, so that the caller reads the body as text.
func (w *mailWriter) multipart(media, boundary, body string, depth int) (ok bool) {
	if depth >= MaxMailDepth {
		return true // too deep: skipped
	}
	if boundary == "" {
		return false
	}
	r := multipart.NewReader(strings.NewReader(body), boundary)
	alternative := media == "multipart/alternative"
	var best string // alternative: the text chosen so far
	bestPlain := false
	for w.parts < MaxMailParts && w.room() > 0 {
		p, err := r.NextRawPart()
		if err != nil {
			break // the end, or a malformed part: the parts before it stay
		}
		w.parts++
		ok = true
		content, err := readLimited(p, MaxMailText) // err: a truncated part, kept as far as it goes
		if !isAttachment(p.Header) {
			sub := &mailWriter{keepHeaders: w.keepHeaders, parts: w.parts}
			sub.entity(p.Header, string(content), depth+1)
			w.parts = sub.parts
			text := sub.b.String()
			switch {
			case strings.TrimSpace(text) == "":
			case !alternative:
				w.separate()
				w.write(text)
			case best == "" || !bestPlain && isPlain(p.Header):
				best, bestPlain = text, isPlain(p.Header)
			}
		}
		if err != nil {
			break
		}
	}
	if best != "" {
		w.separate()
		w.write(best)
	}
	return ok
}

// isPlain reports whether a part is text/plain, as parts without a
// Content-Type are.
func isPlain(h textproto.MIMEHeader) bool {
	media, _ := contentType(h.Get("Content-Type"))
	return media == "" || media == "text/plain"
}

// isAttachment reports whether a part is an attachment, which carries no
// text of the message (RFC 2183).
func isAttachment(h textproto.MIMEHeader) bool {
	d, _, _ := mime.ParseMediaType(h.Get("Content-Disposition"))
	return d == "attachment"
}

// contentType parses a Content-Type field, leniently: a malformed
// parameter list still gives the media type, and the boundary and charset
// are looked for by hand.
func contentType(v string) (media string, params map[string]string) {
	media, params, err := mime.ParseMediaType(v)
	if err == nil || errors.Is(err, mime.ErrInvalidMediaParameter) && media != "" {
		if params == nil {
			params = map[string]string{}
		}
		if err != nil {
			for _, name := range []string{"boundary", "charset"} {
				if p := findParam(v, name); p != "" {
					params[name] = p
				}
			}
		}
		return media, params
	}
	// No media type at all: text/plain (RFC 2045 5.2) if the field is
	// empty, else its first word if it looks like one.
	media, _, _ = strings.Cut(strings.ToLower(strings.TrimSpace(v)), ";")
	media = strings.TrimSpace(media)
	if !strings.Contains(media, "/") {
		media = ""
	}
	return media, map[string]string{"boundary": findParam(v, "boundary"), "charset": findParam(v, "charset")}
}

// findParam finds name=value or name="value" in a parameter list that
// mime.ParseMediaType rejected.
func findParam(v, name string) string {
	for i := 0; i+len(name) <= len(v); i++ {
		if !strings.EqualFold(v[i:i+len(name)], name) || i > 0 && !strings.ContainsRune("; \t", rune(v[i-1])) {
			continue
		}
		rest := strings.TrimLeft(v[i+len(name):], " \t")
		if !strings.HasPrefix(rest, "=") {
			continue
		}
		rest = strings.TrimLeft(rest[1:], " \t")
		if strings.HasPrefix(rest, `"`) {
			if end := strings.IndexByte(rest[1:], '"'); end >= 0 {
				return rest[1 : 1+end]
			}
			return strings.TrimSpace(rest[1:])
		}
		end := strings.IndexAny(rest, "; \t")
		if end < 0 {
			end = len(rest)
		}
		return rest[:end]
	}
	return ""
}

// textBody decodes a text part: its transfer encoding, then its charset
// into UTF-8; HTML (declared, or a plain-text body carrying HTML tags) is
// reduced to text.
func textBody(h headerGetter, media, charset, body string) string {
	raw := decodeTransfer(h.Get("Content-Transfer-Encoding"), body)
	s := toUTF8(charset, raw)
	if media == "text/html" || looksHTML(strings.ToLower(s)) {
		s = htmlToText(s)
	}
	return s
}

// decodeTransfer undoes a Content-Transfer-Encoding. What follows broken
// base64 or quoted-printable is dropped; other encodings (7bit, 8bit,
// binary, unknown ones) are kept as they are.
func decodeTransfer(cte, body string) []byte {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "base64":
		clean := make([]byte, 0, len(body))
		for i := 0; i < len(body); i++ {
			if c := body[i]; c != '\r' && c != '\n' && c != ' ' && c != '\t' {
				clean = append(clean, c)
			}
		}
		// Room for a last, unpadded quantum: Decode writes it before it
		// finds the padding missing.
		out := make([]byte, base64.RawStdEncoding.DecodedLen(len(clean))+3)
		n, err := base64.StdEncoding.Decode(out, clean)
		if err != nil && n == 0 && len(clean)%4 != 0 {
			// Missing padding.
			n, _ = base64.RawStdEncoding.Decode(out, bytes.TrimRight(clean, "="))
		}
		return out[:n]
	case "quoted-printable":
		// Control characters would stop the decoder, which is strict
		// about them; they carry no text, so they become spaces.
		b := []byte(body)
		for i, c := range b {
			if c < ' ' && c != '\t' && c != '\r' && c != '\n' || c == 0x7f {
				b[i] = ' '
			}
		}
		out, _ := readLimited(quotedprintable.NewReader(bytes.NewReader(b)), len(b))
		return out
	}
	return []byte(body)
}

// readLimited reads r to its end or n bytes, whichever comes first; on an
// error it returns what it read.
func readLimited(r io.Reader, n int) ([]byte, error) {
	var buf bytes.Buffer
	_, err := buf.ReadFrom(io.LimitReader(r, int64(n)))
	return buf.Bytes(), err
}

// toUTF8 decodes text in a MIME charset. Text without a charset (or
// declared US-ASCII or UTF-8) is kept when it is valid UTF-8; otherwise it
// is read as Windows-1252, as browsers read unlabelled text (WHATWG). An
// unknown charset is treated as none. Invalid sequences become U+FFFD.
func toUTF8(charset string, b []byte) string {
	enc := lookupCharset(charset)
	if enc == nil {
		if utf8.Valid(b) {
			return string(b)
		}
		enc = charmap.Windows1252
	}
	if enc == encoding.Nop {
		return strings.ToValidUTF8(string(b), "\uFFFD")
	}
	s, err := enc.NewDecoder().Bytes(b)
	if err != nil {
		return strings.ToValidUTF8(string(b), "\uFFFD")
	}
	return strings.ToValidUTF8(string(s), "\uFFFD")
}

// lookupCharset finds a MIME charset by its WHATWG label, else its IANA
// name: nil for none, US-ASCII and unknown charsets, encoding.Nop for
// UTF-8.
func lookupCharset(charset string) encoding.Encoding {
	charset = strings.ToLower(strings.Trim(strings.TrimSpace(charset), `"'`))
	switch charset {
	case "", "us-ascii", "ascii", "us_ascii", "ansi_x3.4-1968", "default", "unknown", "x-unknown":
		return nil
	case "utf-8", "utf8":
		return encoding.Nop
	}
	if enc, err := htmlindex.Get(charset); err == nil {
		if enc == encoding.Replacement {
			return nil // WHATWG maps ISO-2022-KR and HZ to U+FFFD; keep the bytes
		}
		return enc
	}
	if enc, err := ianaindex.MIME.Encoding(charset); err == nil && enc != nil {
		return enc
	}
	return nil
}

// wordDecoder decodes RFC 2047 encoded words in every charset toUTF8
// knows; words in unknown charsets keep their bytes.
var wordDecoder = &mime.WordDecoder{
	CharsetReader: func(charset string, input io.Reader) (io.Reader, error) {
		b, err := readLimited(input, MaxMailLine)
		if err != nil {
			return nil, err
		}
		return strings.NewReader(toUTF8(charset, b)), nil
	},
}

// decodeHeader decodes a header field's encoded words; a field it cannot
// decode is kept as written, made valid UTF-8.
func decodeHeader(v string) string {
	if s, err := wordDecoder.DecodeHeader(v); err == nil {
		v = s
	}
	if !utf8.ValidString(v) {
		return toUTF8("", []byte(v))
	}
	return v
}
