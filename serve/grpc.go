package serve

import (
	"context"
	"encoding/binary"
	"math"
	"net/http"
	"path"
	"slices"
	"strconv"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/keepalive"
	grpcmd "google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/tapeml/tapeml/api"
	"github.com/tapeml/tapeml/serve/inference"
)

// The Open Inference Protocol's gRPC binding (inference.GRPCInferenceService,
// what KServe's and Triton's clients speak): ServerLive, ServerReady,
// ServerMetadata, ModelReady, ModelMetadata and ModelInfer, on the same
// models, batchers, limits, tokens and metrics as REST.

type grpcService struct {
	inference.UnimplementedGRPCInferenceServiceServer
	s *Server
}

func (s *Server) newGRPCServer() *grpc.Server {
	opts := []grpc.ServerOption{
		grpc.MaxRecvMsgSize(int(min(s.cfg.MaxBody, math.MaxInt32))),
		grpc.ChainUnaryInterceptor(s.grpcRequest, s.grpcAuth),
		grpc.KeepaliveParams(keepalive.ServerParameters{MaxConnectionIdle: s.cfg.IdleTimeout}),
		grpc.ConnectionTimeout(min(10*time.Second, s.cfg.ReadTimeout)),
		grpc.MaxConcurrentStreams(uint32(max(s.cfg.MaxConcurrentRequests, 100))),
	}
	if s.tls != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(s.tls.Clone())))
	}
	gs := grpc.NewServer(opts...)
	inference.RegisterGRPCInferenceServiceServer(gs, &grpcService{s: s})
	return gs
}

// grpcRequest gives a call a request id and a deadline, maps its error
// through the one error mapping, and counts it.
func (s *Server) grpcRequest(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	md, _ := grpcmd.FromIncomingContext(ctx)
	given := ""
	if v := md.Get("x-request-id"); len(v) > 0 {
		given = v[0]
	}
	id := requestIDOf(given)
	grpc.SetHeader(ctx, grpcmd.Pairs("x-request-id", id))
	ctx, cancel := context.WithTimeout(withRequestID(ctx, id), s.cfg.WriteTimeout)
	defer cancel()
	start := time.Now()
	resp, err := handler(ctx, req)
	if err != nil {
		if _, isStatus := status.FromError(err); !isStatus {
			code, msg := s.publicError(ctx, err)
			err = status.Error(grpcCode(code), msg+" (request id "+id+")")
		}
	}
	method := path.Base(info.FullMethod)
	s.met.grpc.WithLabelValues(method, status.Code(err).String()).Inc()
	s.log.Debug("grpc", "id", id, "method", method, "code", status.Code(err).String(), "duration", time.Since(start).String())
	return resp, err
}

// grpcAuth asks for a bearer token in the "authorization" metadata, as
// REST does in its header.
func (s *Server) grpcAuth(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if s.auth.enabled() {
		m := path.Base(info.FullMethod)
		open := s.cfg.OpenHealth && (m == "ServerLive" || m == "ServerReady")
		md, _ := grpcmd.FromIncomingContext(ctx)
		token := ""
		if v := md.Get("authorization"); len(v) > 0 {
			token = bearer(v[0])
		}
		if !open && !s.auth.valid(token) {
			return nil, status.Error(codes.Unauthenticated, "missing or invalid bearer token")
		}
	}
	return handler(ctx, req)
}

// grpcCode is the gRPC code of an HTTP status.
func grpcCode(httpStatus int) codes.Code {
	switch httpStatus {
	case http.StatusBadRequest, http.StatusUnsupportedMediaType:
		return codes.InvalidArgument
	case http.StatusUnauthorized:
		return codes.Unauthenticated
	case http.StatusForbidden:
		return codes.PermissionDenied
	case http.StatusNotFound:
		return codes.NotFound
	case http.StatusRequestEntityTooLarge:
		return codes.ResourceExhausted
	case http.StatusServiceUnavailable:
		return codes.Unavailable
	}
	return codes.Internal
}

func (g *grpcService) ServerLive(context.Context, *inference.ServerLiveRequest) (*inference.ServerLiveResponse, error) {
	return &inference.ServerLiveResponse{Live: true}, nil
}

func (g *grpcService) ServerReady(context.Context, *inference.ServerReadyRequest) (*inference.ServerReadyResponse, error) {
	return &inference.ServerReadyResponse{Ready: g.s.isReady()}, nil
}

func (g *grpcService) ServerMetadata(context.Context, *inference.ServerMetadataRequest) (*inference.ServerMetadataResponse, error) {
	return &inference.ServerMetadataResponse{Name: "tapeml", Version: Version, Extensions: []string{"model_repository"}}, nil
}

// grpcSelector reads a request's model_version: "" for the default.
func grpcSelector(v string) (selector, error) {
	if v == "" {
		return selector{}, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 1 {
		return selector{}, errorf(http.StatusBadRequest, "version %q is not a positive integer", v)
	}
	return selector{num: n}, nil
}

func (g *grpcService) ModelReady(ctx context.Context, req *inference.ModelReadyRequest) (*inference.ModelReadyResponse, error) {
	sel, err := grpcSelector(req.Version)
	if err != nil {
		return nil, err
	}
	v, err := g.s.man.acquire(req.Name, sel)
	if statusOf(err) == http.StatusServiceUnavailable {
		return &inference.ModelReadyResponse{Ready: false}, nil
	}
	if err != nil {
		return nil, err
	}
	v.release()
	return &inference.ModelReadyResponse{Ready: true}, nil
}

func (g *grpcService) ModelMetadata(ctx context.Context, req *inference.ModelMetadataRequest) (*inference.ModelMetadataResponse, error) {
	sel, err := grpcSelector(req.Version)
	if err != nil {
		return nil, err
	}
	v, err := g.s.man.acquire(req.Name, sel)
	if err != nil {
		return nil, err
	}
	defer v.release()
	md := g.s.modelMetadata(v, sel)
	resp := &inference.ModelMetadataResponse{Name: md.Name, Versions: md.Versions, Platform: md.Platform}
	for _, t := range md.Inputs {
		resp.Inputs = append(resp.Inputs, &inference.ModelMetadataResponse_TensorMetadata{Name: t.Name, Datatype: t.Datatype, Shape: t.Shape})
	}
	for _, t := range md.Outputs {
		resp.Outputs = append(resp.Outputs, &inference.ModelMetadataResponse_TensorMetadata{Name: t.Name, Datatype: t.Datatype, Shape: t.Shape})
	}
	return resp, nil
}

func (g *grpcService) ModelInfer(ctx context.Context, req *inference.ModelInferRequest) (*inference.ModelInferResponse, error) {
	s := g.s
	start := time.Now()
	if err := s.gate.enter(req.ModelName); err != nil {
		return nil, err
	}
	defer s.gate.leave(req.ModelName)
	sel, err := grpcSelector(req.ModelVersion)
	if err != nil {
		return nil, err
	}
	sel = s.grpcRouted(ctx, sel)
	v, err := s.man.acquire(req.ModelName, sel)
	if err != nil {
		return nil, err
	}
	defer v.release()
	out, err := s.grpcInfer(ctx, v, sel, req)
	code := http.StatusOK
	if err != nil {
		code = statusOf(err)
	}
	s.met.answered(v.model, v.num, code, time.Since(start))
	if err != nil {
		return nil, err
	}
	resp := &inference.ModelInferResponse{ModelName: v.model, ModelVersion: strconv.FormatInt(v.num, 10), Id: req.Id}
	for i := range out {
		resp.Outputs = append(resp.Outputs, grpcOutput(&out[i]))
	}
	return resp, nil
}

func (s *Server) grpcInfer(ctx context.Context, v *version, sel selector, req *inference.ModelInferRequest) ([]api.Tensor, error) {
	in, err := grpcInputs(v, req, s.cfg.Limits.Elements)
	if err != nil {
		return nil, err
	}
	out, err := s.run(ctx, v, in)
	if err != nil {
		return nil, err
	}
	s.shadow(ctx, sel, v, in, out)
	var want []string
	for _, o := range req.Outputs {
		want = append(want, o.Name)
	}
	return selectOutputs(out, want)
}

// grpcInputs reads a request's tensors as the model's signature describes
// them, from their typed contents or, when the request has them, from
// raw_input_contents (little-endian values; BYTES elements each after
// their 4-byte length), checking shapes and sizes first.
func grpcInputs(v *version, req *inference.ModelInferRequest, limit int) ([]api.Tensor, error) {
	sig := v.m.Signature()
	raw := req.RawInputContents
	if len(raw) > 0 && len(raw) != len(req.Inputs) {
		return nil, errorf(http.StatusBadRequest, "%d raw_input_contents for %d inputs", len(raw), len(req.Inputs))
	}
	out := make([]api.Tensor, 0, len(req.Inputs))
	names := make([]string, 0, len(req.Inputs))
	total := int64(0)
	for i, t := range req.Inputs {
		if slices.Contains(names, t.Name) {
			return nil, errorf(http.StatusBadRequest, "input %q given twice", t.Name)
		}
		spec, ok := sig.Input(t.Name)
		if !ok {
			return nil, errorf(http.StatusBadRequest, "unknown input %q (model %q takes %v)", t.Name, v.model, sig.InputNames())
		}
		size, err := checkShape(t.Name, t.Datatype, t.Shape, spec, limit)
		if err != nil {
			return nil, err
		}
		if total += size; total > int64(limit) {
			return nil, overLimit("max-elements", "input values", total, int64(limit))
		}
		x := api.Tensor{Name: t.Name, Datatype: spec.Datatype, Shape: slices.Clone(t.Shape)}
		if raw != nil {
			err = fromRaw(&x, raw[i], int(size))
		} else {
			err = fromContents(&x, t.Contents, int(size))
		}
		if err != nil {
			return nil, err
		}
		out = append(out, x)
		names = append(names, t.Name)
	}
	if _, err := sig.Group(names); err != nil {
		return nil, errorf(http.StatusBadRequest, "%v", err)
	}
	return out, nil
}

// fromContents takes a tensor's elements from the typed contents field of
// its datatype.
func fromContents(x *api.Tensor, c *inference.InferTensorContents, size int) error {
	if c == nil {
		c = &inference.InferTensorContents{}
	}
	n := 0
	switch x.Datatype {
	case api.BYTES:
		x.Bytes, n = c.BytesContents, len(c.BytesContents)
	case api.FP32:
		x.FP32, n = c.Fp32Contents, len(c.Fp32Contents)
	case api.INT32:
		x.INT32, n = c.IntContents, len(c.IntContents)
	}
	if n != size {
		return errorf(http.StatusBadRequest, "input %q: %d %s contents for shape %v", x.Name, n, x.Datatype, x.Shape)
	}
	return checkFiniteInput(x)
}

// fromRaw decodes a tensor's raw_input_contents.
func fromRaw(x *api.Tensor, b []byte, size int) error {
	switch x.Datatype {
	case api.FP32, api.INT32:
		if len(b) != 4*size {
			return errorf(http.StatusBadRequest, "input %q: %d raw bytes for %d %s values", x.Name, len(b), size, x.Datatype)
		}
		if x.Datatype == api.FP32 {
			x.FP32 = make([]float32, size)
			for i := range x.FP32 {
				x.FP32[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
			}
			return checkFiniteInput(x)
		}
		x.INT32 = make([]int32, size)
		for i := range x.INT32 {
			x.INT32[i] = int32(binary.LittleEndian.Uint32(b[4*i:]))
		}
	case api.BYTES:
		// Bounded by the message: each element takes at least 4 bytes.
		if len(b) < 4*size {
			return errorf(http.StatusBadRequest, "input %q: %d raw bytes for %d BYTES elements", x.Name, len(b), size)
		}
		x.Bytes = make([][]byte, size)
		for i := range x.Bytes {
			if len(b) < 4 {
				return errorf(http.StatusBadRequest, "input %q: raw contents end before element %d", x.Name, i)
			}
			n := binary.LittleEndian.Uint32(b)
			if uint64(n) > uint64(len(b)-4) {
				return errorf(http.StatusBadRequest, "input %q: raw element %d of %d bytes overruns the contents", x.Name, i, n)
			}
			x.Bytes[i], b = b[4:4+n], b[4+n:]
		}
		if len(b) != 0 {
			return errorf(http.StatusBadRequest, "input %q: %d raw bytes after the last element", x.Name, len(b))
		}
	}
	return nil
}

// checkFiniteInput refuses NaN and infinite FP32 inputs, as REST does.
func checkFiniteInput(x *api.Tensor) error {
	if x.Datatype != api.FP32 {
		return nil
	}
	for i, f := range x.FP32 {
		if f-f != 0 {
			return errorf(http.StatusBadRequest, "input %q: element %d is %v, want a finite 32-bit number", x.Name, i, f)
		}
	}
	return nil
}

// grpcOutput is an output tensor in its typed contents field.
func grpcOutput(t *api.Tensor) *inference.ModelInferResponse_InferOutputTensor {
	c := &inference.InferTensorContents{}
	switch t.Datatype {
	case api.BYTES:
		c.BytesContents = t.Bytes
	case api.FP32:
		c.Fp32Contents = t.FP32
	case api.INT32:
		c.IntContents = t.INT32
	}
	return &inference.ModelInferResponse_InferOutputTensor{Name: t.Name, Datatype: t.Datatype, Shape: t.Shape, Contents: c}
}
