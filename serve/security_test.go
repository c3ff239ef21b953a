package serve_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/tapeml/tapeml/serve"
	"github.com/tapeml/tapeml/serve/inference"
)

const testToken = "s3cret-token-for-tests-0123456789"

// request sends method url with body and headers, and returns the status
// and body.
func request(t testing.TB, c *http.Client, method, url, body string, header ...string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i] == "Host" {
			req.Host = header[i+1]
			continue
		}
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// modelEndpoints are every endpoint that touches a model, REST.
var modelEndpoints = []struct{ method, path, body string }{
	{"GET", "/v2", ""},
	{"POST", "/v2/repository/index", ""},
	{"GET", "/v2/models/spam", ""},
	{"GET", "/v2/models/spam/versions/1", ""},
	{"GET", "/v2/models/spam/ready", ""},
	{"GET", "/v2/models/spam/versions/1/ready", ""},
	{"POST", "/v2/models/spam/infer", `{"inputs":[{"name":"text","datatype":"BYTES","shape":[1],"data":["win"]}]}`},
	{"POST", "/v2/models/spam/versions/1/infer", `{"inputs":[{"name":"text","datatype":"BYTES","shape":[1],"data":["win"]}]}`},
	{"POST", "/v2/models/spam/explain", `{"inputs":[{"name":"text","datatype":"BYTES","shape":[1],"data":["win free cash"]}],"parameters":{"steps":4}}`},
	{"POST", "/v2/models/spam/versions/1/explain", `{"inputs":[{"name":"text","datatype":"BYTES","shape":[1],"data":["win free cash"]}],"parameters":{"steps":4}}`},
	{"GET", "/v1/models/spam", ""},
	{"GET", "/v1/models/spam/versions/1", ""},
	{"GET", "/v1/models/spam/labels/stable", ""},
	{"POST", "/v1/models/spam:predict", `{"instances":["win"]}`},
	{"POST", "/v1/models/spam/versions/1:predict", `{"instances":["win"]}`},
	{"POST", "/v1/models/spam/labels/stable:predict", `{"instances":["win"]}`},
}

// TestAuth: with tokens, every model endpoint is 401 without one (or with
// a wrong one) and 200 with it, over REST and gRPC; health and metrics
// too unless OpenHealth; the page and /openapi.json stay open.
func TestAuth(t *testing.T) {
	for _, openHealth := range []bool{false, true} {
		ts := start(t, serve.Config{Models: repository(t), Poll: -1, Logger: quiet(), AuthTokens: []string{"another-token-0123456789", testToken}, OpenHealth: openHealth})
		c := http.DefaultClient
		for _, e := range modelEndpoints {
			for _, auth := range []string{"", "Bearer wrong-token-0123456789", "Basic " + testToken, "Bearer " + testToken[:len(testToken)-1]} {
				if code, body, h := request(t, c, e.method, ts.url+e.path, e.body, "Authorization", auth); code != 401 || h.Get("WWW-Authenticate") == "" {
					t.Errorf("%s %s with %q: %d %s, want 401", e.method, e.path, auth, code, body)
				}
			}
			for _, auth := range []string{"Bearer " + testToken, "bearer " + testToken} {
				if code, body, _ := request(t, c, e.method, ts.url+e.path, e.body, "Authorization", auth); code != 200 {
					t.Errorf("%s %s with the token: %d %s", e.method, e.path, code, body)
				}
			}
		}
		for _, p := range []string{"/v2/health/live", "/v2/health/ready", "/metrics"} {
			want := 401
			if openHealth {
				want = 200
			}
			if code, body, _ := request(t, c, "GET", ts.url+p, ""); code != want {
				t.Errorf("open health %v: GET %s without a token: %d %.100s, want %d", openHealth, p, code, body, want)
			}
		}
		for _, p := range []string{"/", "/static/app.js", "/openapi.json"} {
			if code, _, _ := request(t, c, "GET", ts.url+p, ""); code != 200 {
				t.Errorf("GET %s without a token: %d", p, code)
			}
		}

		// gRPC: the token in the "authorization" metadata.
		conn, err := grpc.NewClient(ts.grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		client := inference.NewGRPCInferenceServiceClient(conn)
		for _, auth := range []string{"", "Bearer nope-nope-nope-nope", "Bearer " + testToken} {
			ctx := t.Context()
			if auth != "" {
				ctx = metadata.AppendToOutgoingContext(ctx, "authorization", auth)
			}
			want := codes.Unauthenticated
			if auth == "Bearer "+testToken {
				want = codes.OK
			}
			errs := map[string]error{}
			_, errs["ServerMetadata"] = client.ServerMetadata(ctx, &inference.ServerMetadataRequest{})
			_, errs["ModelReady"] = client.ModelReady(ctx, &inference.ModelReadyRequest{Name: "spam"})
			_, errs["ModelMetadata"] = client.ModelMetadata(ctx, &inference.ModelMetadataRequest{Name: "spam", Version: "1"})
			_, errs["ModelInfer"] = client.ModelInfer(ctx, textRequest("spam", "", "win"))
			for m, err := range errs {
				if status.Code(err) != want {
					t.Errorf("gRPC %s with %q: %v, want %v", m, auth, err, want)
				}
			}
			healthWant := want
			if openHealth {
				healthWant = codes.OK
			}
			_, e1 := client.ServerLive(ctx, &inference.ServerLiveRequest{})
			_, e2 := client.ServerReady(ctx, &inference.ServerReadyRequest{})
			if status.Code(e1) != healthWant || status.Code(e2) != healthWant {
				t.Errorf("gRPC health with %q, open %v: %v %v, want %v", auth, openHealth, e1, e2, healthWant)
			}
		}
		conn.Close()
	}
}

// TestBrowserRules: a web page on another origin cannot drive the server
// — its requests are refused, and a POST body must be JSON, which
// browsers do not send cross-site without asking — unless the origin is
// allowed; a loopback server answers loopback names only.
func TestBrowserRules(t *testing.T) {
	ts := start(t, serve.Config{Models: repository(t), Poll: -1, Logger: quiet(), CORSOrigins: []string{"https://app.example.com"}})
	c := http.DefaultClient
	infer := ts.url + "/v2/models/spam/infer"
	body := textInfer("win")
	self := ts.url
	for _, tc := range []struct {
		name    string
		method  string
		url     string
		body    string
		headers []string
		code    int
		check   func(http.Header) bool
	}{
		{"text/plain body", "POST", infer, body, []string{"Content-Type", "text/plain"}, 415, nil},
		{"form body", "POST", infer, body, []string{"Content-Type", "application/x-www-form-urlencoded"}, 415, nil},
		{"no content type", "POST", infer, body, []string{"Content-Type", ""}, 415, nil},
		{"v1 text/plain", "POST", ts.url + "/v1/models/spam:predict", `{"instances":["a"]}`, []string{"Content-Type", "text/plain;charset=UTF-8"}, 415, nil},
		{"JSON with charset", "POST", infer, body, []string{"Content-Type", "application/json; charset=utf-8"}, 200, nil},
		{"foreign origin", "POST", infer, body, []string{"Origin", "https://evil.example"}, 403, nil},
		{"foreign origin, GET", "GET", ts.url + "/v2/models/spam", "", []string{"Origin", "https://evil.example"}, 403, nil},
		{"null origin", "POST", infer, body, []string{"Origin", "null"}, 403, nil},
		{"cross-site image", "GET", ts.url + "/v2/models/spam", "", []string{"Sec-Fetch-Site", "cross-site"}, 403, nil},
		{"a link to the page", "GET", ts.url + "/", "", []string{"Sec-Fetch-Site", "cross-site"}, 200, nil},
		{"same origin", "POST", infer, body, []string{"Origin", self}, 200, func(h http.Header) bool { return h.Get("Access-Control-Allow-Origin") == "" }},
		{"allowed origin", "POST", infer, body, []string{"Origin", "https://app.example.com"}, 200, func(h http.Header) bool {
			return h.Get("Access-Control-Allow-Origin") == "https://app.example.com"
		}},
		{"allowed origin, preflight", "OPTIONS", infer, "", []string{"Origin", "https://app.example.com", "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "content-type"}, 204, func(h http.Header) bool {
			return strings.Contains(h.Get("Access-Control-Allow-Headers"), "Content-Type") && strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST")
		}},
		{"foreign origin, preflight", "OPTIONS", infer, "", []string{"Origin", "https://evil.example", "Access-Control-Request-Method", "POST"}, 403, nil},
		{"DNS rebinding: a foreign host name on loopback", "POST", infer, body, []string{"Host", "evil.example:80", "Origin", "http://evil.example:80"}, 403, nil},
		{"localhost", "POST", infer, body, []string{"Host", "localhost"}, 200, nil},
	} {
		code, b, h := request(t, c, tc.method, tc.url, tc.body, tc.headers...)
		if code != tc.code || (tc.check != nil && !tc.check(h)) {
			t.Errorf("%s: %d %.200s %v, want %d", tc.name, code, b, h, tc.code)
		}
	}
	// Any origin.
	ts = start(t, serve.Config{Models: repository(t), Poll: -1, Logger: quiet(), CORSOrigins: []string{"*"}})
	if code, b, h := request(t, c, "POST", ts.url+"/v2/models/spam/infer", body, "Origin", "https://anywhere.example"); code != 200 || h.Get("Access-Control-Allow-Origin") != "https://anywhere.example" {
		t.Errorf("with *: %d %s %v", code, b, h)
	}
}

// TestTLS: with a certificate and key the server speaks HTTPS and gRPC
// over TLS.
func TestTLS(t *testing.T) {
	certFile, keyFile, pool := testCertificate(t)
	ts := start(t, serve.Config{Models: repository(t), Poll: -1, Logger: quiet(), TLSCert: certFile, TLSKey: keyFile})
	if !strings.HasPrefix(ts.url, "https://") {
		t.Fatal(ts.url)
	}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}}
	code, body, _ := request(t, c, "POST", ts.url+"/v2/models/spam/infer", textInfer("win free cash"))
	if code != 200 || !strings.Contains(body, `"probs"`) {
		t.Fatalf("HTTPS infer: %d %s", code, body)
	}
	// Plain HTTP to the TLS port gets nothing useful.
	if resp, err := http.Get(strings.Replace(ts.url, "https", "http", 1) + "/v2/health/live"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Error("plain HTTP answered 200 on the TLS port")
		}
	}
	conn, err := grpc.NewClient(ts.grpcAddr, grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	resp, err := inference.NewGRPCInferenceServiceClient(conn).ModelInfer(t.Context(), textRequest("spam", "", "win free cash"))
	if err != nil || len(resp.Outputs) != 4 { // probs, label, class, known_tokens
		t.Fatalf("gRPC over TLS: %v %v", resp, err)
	}
}

// testCertificate writes a self-signed certificate for 127.0.0.1 and
// localhost, and returns its files and a pool trusting it.
func testCertificate(t testing.TB) (certFile, keyFile string, pool *x509.CertPool) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "tapeml test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}
