package serve_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"image/png"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/tapeml/tapeml/serve"
	"github.com/tapeml/tapeml/serve/inference"
)

func textRequest(model, version string, texts ...string) *inference.ModelInferRequest {
	b := make([][]byte, len(texts))
	for i, s := range texts {
		b[i] = []byte(s)
	}
	return &inference.ModelInferRequest{ModelName: model, ModelVersion: version, Inputs: []*inference.ModelInferRequest_InferInputTensor{
		{Name: "text", Datatype: "BYTES", Shape: []int64{int64(len(texts))}, Contents: &inference.InferTensorContents{BytesContents: b}},
	}}
}

func grpcClient(t testing.TB, addr string) inference.GRPCInferenceServiceClient {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return inference.NewGRPCInferenceServiceClient(conn)
}

// restOutputs answers a v2 REST body as output name → (shape, data as
// JSON).
func restOutputs(t testing.TB, url, body string) map[string]string {
	code, b := do(t, "POST", url, body)
	if code != 200 {
		t.Fatalf("REST: %d %s", code, b)
	}
	var r struct {
		Outputs []struct {
			Name  string          `json:"name"`
			Shape []int64         `json:"shape"`
			Data  json.RawMessage `json:"data"`
		}
	}
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, o := range r.Outputs {
		var v any
		json.Unmarshal(o.Data, &v)
		d, _ := json.Marshal(v)
		out[o.Name] = fmt.Sprint(o.Shape) + string(d)
	}
	return out
}

// grpcOutputs is restOutputs for a gRPC answer, in the same form.
func grpcOutputs(resp *inference.ModelInferResponse) map[string]string {
	out := map[string]string{}
	for _, o := range resp.Outputs {
		var v any
		c := o.Contents
		switch o.Datatype {
		case "FP32":
			v = c.Fp32Contents
		case "INT32":
			v = c.IntContents
		case "BYTES":
			s := make([]string, len(c.BytesContents))
			for i, b := range c.BytesContents {
				s[i] = string(b)
			}
			v = s
		}
		d, _ := json.Marshal(v)
		var norm any
		json.Unmarshal(d, &norm)
		d, _ = json.Marshal(norm)
		out[o.Name] = fmt.Sprint(o.Shape) + string(d)
	}
	return out
}

// TestGRPC: a client built from the same proto gets the same outputs as
// REST, bit for bit, for text, image (pixels, PNG files, raw contents)
// and recommender models, from many goroutines at once (run with -race);
// metadata, readiness and errors follow the same rules.
func TestGRPC(t *testing.T) {
	ts := start(t, serve.Config{Models: repository(t), MaxBatch: 8, Poll: -1, Logger: quiet(), Limits: serve.Limits{Instances: 64}})
	client := grpcClient(t, ts.grpcAddr)
	raw, imgs := pixels(3)
	var files [][]byte
	var b64 []string
	for _, img := range imgs {
		var b bytes.Buffer
		png.Encode(&b, img)
		files = append(files, b.Bytes())
		b64 = append(b64, fmt.Sprintf("%q", pngBase64(t, img)))
	}
	rawPixels := make([]byte, 4*len(raw))
	for i, f := range raw {
		binary.LittleEndian.PutUint32(rawPixels[4*i:], math.Float32bits(f))
	}
	pixelJSON, _ := json.Marshal(raw)
	type pair struct {
		name string
		rest string // path and body
		body string
		req  *inference.ModelInferRequest
	}
	cases := []pair{
		{"text", "/v2/models/spam/infer", textInfer(texts...), textRequest("spam", "", texts...)},
		{"text, version 1", "/v2/models/spam/versions/1/infer", textInfer(texts...), textRequest("spam", "1", texts...)},
		{"pixels", "/v2/models/digits/infer", fmt.Sprintf(`{"inputs":[{"name":"images","datatype":"FP32","shape":[3,1,8,8],"data":%s}]}`, pixelJSON),
			&inference.ModelInferRequest{ModelName: "digits", Inputs: []*inference.ModelInferRequest_InferInputTensor{{Name: "images", Datatype: "FP32", Shape: []int64{3, 1, 8, 8}, Contents: &inference.InferTensorContents{Fp32Contents: raw}}}}},
		{"pixels, raw contents", "/v2/models/digits/infer", fmt.Sprintf(`{"inputs":[{"name":"images","datatype":"FP32","shape":[3,1,8,8],"data":%s}]}`, pixelJSON),
			&inference.ModelInferRequest{ModelName: "digits", Inputs: []*inference.ModelInferRequest_InferInputTensor{{Name: "images", Datatype: "FP32", Shape: []int64{3, 1, 8, 8}}}, RawInputContents: [][]byte{rawPixels}}},
		{"PNG files", "/v2/models/digits/infer", fmt.Sprintf(`{"inputs":[{"name":"image","datatype":"BYTES","shape":[3],"data":[%s]}]}`, strings.Join(b64, ",")),
			&inference.ModelInferRequest{ModelName: "digits", Inputs: []*inference.ModelInferRequest_InferInputTensor{{Name: "image", Datatype: "BYTES", Shape: []int64{3}, Contents: &inference.InferTensorContents{BytesContents: files}}}}},
		{"PNG files, raw contents", "/v2/models/digits/infer", fmt.Sprintf(`{"inputs":[{"name":"image","datatype":"BYTES","shape":[3],"data":[%s]}]}`, strings.Join(b64, ",")),
			&inference.ModelInferRequest{ModelName: "digits", Inputs: []*inference.ModelInferRequest_InferInputTensor{{Name: "image", Datatype: "BYTES", Shape: []int64{3}}}, RawInputContents: [][]byte{rawBytes(files...)}}},
		{"recommend", "/v2/models/movies/infer", `{"inputs":[{"name":"user","datatype":"BYTES","shape":[1],"data":["3"]},{"name":"n","datatype":"INT32","shape":[1],"data":[5]}]}`,
			&inference.ModelInferRequest{ModelName: "movies", Inputs: []*inference.ModelInferRequest_InferInputTensor{
				{Name: "user", Datatype: "BYTES", Shape: []int64{1}, Contents: &inference.InferTensorContents{BytesContents: [][]byte{[]byte("3")}}},
				{Name: "n", Datatype: "INT32", Shape: []int64{1}, Contents: &inference.InferTensorContents{IntContents: []int32{5}}}}}},
		{"ratings", "/v2/models/movies/infer", `{"inputs":[{"name":"user","datatype":"BYTES","shape":[2],"data":["3","nobody"]},{"name":"item","datatype":"BYTES","shape":[2],"data":["1","2"]}]}`,
			&inference.ModelInferRequest{ModelName: "movies", Inputs: []*inference.ModelInferRequest_InferInputTensor{
				{Name: "user", Datatype: "BYTES", Shape: []int64{2}, Contents: &inference.InferTensorContents{BytesContents: [][]byte{[]byte("3"), []byte("nobody")}}},
				{Name: "item", Datatype: "BYTES", Shape: []int64{2}, Contents: &inference.InferTensorContents{BytesContents: [][]byte{[]byte("1"), []byte("2")}}}}}},
	}
	var wg sync.WaitGroup
	for g := range 8 {
		for _, c := range cases {
			wg.Go(func() {
				want := restOutputs(t, ts.url+c.rest, c.body)
				resp, err := client.ModelInfer(t.Context(), c.req)
				if err != nil {
					t.Errorf("%s (goroutine %d): %v", c.name, g, err)
					return
				}
				if got := grpcOutputs(resp); fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("%s: gRPC %v\nREST %v", c.name, got, want)
				}
			})
		}
	}
	wg.Wait()

	md, err := client.ModelMetadata(t.Context(), &inference.ModelMetadataRequest{Name: "spam"})
	if err != nil || !slices.Equal(md.Versions, []string{"2", "1"}) || md.Inputs[0].Name != "text" || md.Outputs[0].Name != "probs" {
		t.Errorf("metadata: %v %v", md, err)
	}
	if r, err := client.ModelReady(t.Context(), &inference.ModelReadyRequest{Name: "broken"}); err != nil || r.Ready {
		t.Errorf("broken ready: %v %v", r, err)
	}
	if r, err := client.ServerReady(t.Context(), &inference.ServerReadyRequest{}); err != nil || !r.Ready {
		t.Errorf("server ready: %v %v", r, err)
	}
	for _, c := range []struct {
		name string
		req  *inference.ModelInferRequest
		code codes.Code
		has  string
	}{
		{"unknown model", textRequest("nope", "", "a"), codes.NotFound, "unknown model"},
		{"bad version", textRequest("spam", "x", "a"), codes.InvalidArgument, "positive integer"},
		{"over max-instances", textRequest("spam", "", slicesRepeat("a", 65)...), codes.ResourceExhausted, "max-instances"},
		{"declared shape", &inference.ModelInferRequest{ModelName: "digits", Inputs: []*inference.ModelInferRequest_InferInputTensor{{Name: "images", Datatype: "FP32", Shape: []int64{1 << 40, 1, 8, 8}}}}, codes.ResourceExhausted, "max-elements"},
		{"contents short of the shape", &inference.ModelInferRequest{ModelName: "spam", Inputs: []*inference.ModelInferRequest_InferInputTensor{{Name: "text", Datatype: "BYTES", Shape: []int64{2}, Contents: &inference.InferTensorContents{BytesContents: [][]byte{[]byte("a")}}}}}, codes.InvalidArgument, "1 BYTES contents"},
		{"NaN pixel", &inference.ModelInferRequest{ModelName: "digits", Inputs: []*inference.ModelInferRequest_InferInputTensor{{Name: "images", Datatype: "FP32", Shape: []int64{1, 1, 8, 8}, Contents: &inference.InferTensorContents{Fp32Contents: append([]float32{float32(math.NaN())}, make([]float32, 63)...)}}}}, codes.InvalidArgument, "finite"},
		{"raw overrun", &inference.ModelInferRequest{ModelName: "spam", Inputs: []*inference.ModelInferRequest_InferInputTensor{{Name: "text", Datatype: "BYTES", Shape: []int64{1}}}, RawInputContents: [][]byte{{255, 255, 255, 127, 'a'}}}, codes.InvalidArgument, "overruns"},
		{"failed version", textRequest("broken", "1", "a"), codes.Unavailable, "failed to load"},
	} {
		_, err := client.ModelInfer(t.Context(), c.req)
		if status.Code(err) != c.code || !strings.Contains(err.Error(), c.has) {
			t.Errorf("%s: %v, want %v naming %q", c.name, err, c.code, c.has)
		}
	}
	_, body := do(t, "GET", ts.url+"/metrics", "")
	if v := metric(t, body, `tapeml_grpc_requests_total{code="OK",method="ModelInfer"}`); v < float64(8*len(cases)) {
		t.Errorf("gRPC requests counted: %v", v)
	}
}

// rawBytes encodes BYTES elements as raw_input_contents: each after its
// little-endian 4-byte length.
func rawBytes(elems ...[]byte) []byte {
	var b []byte
	for _, e := range elems {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(e)))
		b = append(b, e...)
	}
	return b
}
