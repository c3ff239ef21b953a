package deploy_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"

	"github.com/tapeml/tapeml/serve"
)

// The server's health routes, as the manifests must probe them.
const (
	readyPath  = "/v2/health/ready"
	livePath   = "/v2/health/live"
	kserveDir  = "/mnt/models" // where KServe places an InferenceService's model
	kservePort = 8080          // the port KServe sends traffic to
)

// newObject returns the Go type a manifest of apiVersion and kind decodes
// into.
func newObject(apiVersion, kind string) (any, bool) {
	switch apiVersion + " " + kind {
	case "v1 PersistentVolumeClaim":
		return &corev1.PersistentVolumeClaim{}, true
	case "v1 Service":
		return &corev1.Service{}, true
	case "apps/v1 Deployment":
		return &appsv1.Deployment{}, true
	case "autoscaling/v2 HorizontalPodAutoscaler":
		return &autoscalingv2.HorizontalPodAutoscaler{}, true
	case "policy/v1 PodDisruptionBudget":
		return &policyv1.PodDisruptionBudget{}, true
	case "kustomize.config.k8s.io/v1beta1 Kustomization":
		return &kustomization{}, true
	case "serving.kserve.io/v1alpha1 ServingRuntime":
		return &servingRuntime{}, true
	case "serving.kserve.io/v1beta1 InferenceService":
		return &inferenceService{}, true
	}
	return nil, false
}

var docSeparator = regexp.MustCompile(`(?m)^---[ \t]*$`)

// decodeManifest decodes every YAML document of a file strictly: an
// unknown or duplicated field, a wrong type or an unknown kind is an
// error naming the file and document.
func decodeManifest(file string, data []byte) ([]any, error) {
	var objs []any
	for i, doc := range docSeparator.Split(string(data), -1) {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
			return nil, fmt.Errorf("%s: document %d: %v", file, i+1, err)
		}
		obj, ok := newObject(tm.APIVersion, tm.Kind)
		if !ok {
			return nil, fmt.Errorf("%s: document %d: unknown kind %q of %q", file, i+1, tm.Kind, tm.APIVersion)
		}
		// As the API server decodes: field names case-sensitive, unknown
		// and duplicated fields errors (encoding/json, under
		// yaml.UnmarshalStrict, would take storageURI for storageUri).
		js, err := yaml.YAMLToJSONStrict([]byte(doc))
		if err != nil {
			return nil, fmt.Errorf("%s: document %d (%s): %v", file, i+1, tm.Kind, err)
		}
		strict, err := sigsjson.UnmarshalStrict(js, obj)
		if err = errors.Join(append([]error{err}, strict...)...); err != nil {
			return nil, fmt.Errorf("%s: document %d (%s): %v", file, i+1, tm.Kind, err)
		}
		objs = append(objs, obj)
	}
	return objs, nil
}

// manifests are the decoded manifests of both folders, by kind.
type manifests struct {
	files          map[string][]any // by path relative to deploy/
	pvcs           []*corev1.PersistentVolumeClaim
	services       []*corev1.Service
	deployments    []*appsv1.Deployment
	hpas           []*autoscalingv2.HorizontalPodAutoscaler
	pdbs           []*policyv1.PodDisruptionBudget
	kustomizations map[string]*kustomization // by folder
	runtimes       []*servingRuntime
	isvcs          []*inferenceService
}

func loadManifests(t *testing.T) *manifests {
	t.Helper()
	m := &manifests{files: map[string][]any{}, kustomizations: map[string]*kustomization{}}
	for _, dir := range []string{"kubernetes", "kserve"} {
		paths, err := filepath.Glob(filepath.Join(dir, "*.y*ml"))
		if err != nil {
			t.Fatal(err)
		}
		if len(paths) == 0 {
			t.Fatalf("%s: no manifests", dir)
		}
		for _, path := range paths {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			objs, err := decodeManifest(path, data)
			if err != nil {
				t.Fatal(err)
			}
			m.files[path] = objs
			for _, o := range objs {
				switch o := o.(type) {
				case *corev1.PersistentVolumeClaim:
					m.pvcs = append(m.pvcs, o)
				case *corev1.Service:
					m.services = append(m.services, o)
				case *appsv1.Deployment:
					m.deployments = append(m.deployments, o)
				case *autoscalingv2.HorizontalPodAutoscaler:
					m.hpas = append(m.hpas, o)
				case *policyv1.PodDisruptionBudget:
					m.pdbs = append(m.pdbs, o)
				case *kustomization:
					m.kustomizations[dir] = o
				case *servingRuntime:
					m.runtimes = append(m.runtimes, o)
				case *inferenceService:
					m.isvcs = append(m.isvcs, o)
				}
			}
		}
	}
	return m
}

// entrypoint is the Dockerfile's ENTRYPOINT (exec form).
func entrypoint(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "ENTRYPOINT "); ok {
			var ep []string
			if err := json.Unmarshal([]byte(rest), &ep); err != nil {
				t.Fatalf("../Dockerfile: ENTRYPOINT: %v", err)
			}
			return ep
		}
	}
	t.Fatal("../Dockerfile: no ENTRYPOINT")
	return nil
}

// flagValue is the value of --name in args (--name=v or --name v; the
// last one wins, as on the command line).
func flagValue(args []string, name string) (string, bool) {
	var v string
	found := false
	for i, a := range args {
		a = "--" + strings.TrimLeft(a, "-")
		if val, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			v, found = val, true
		} else if a == "--"+name && i+1 < len(args) {
			v, found = args[i+1], true
		}
	}
	return v, found
}

// withFlag returns args with every --name replaced by --name=value.
func withFlag(args []string, name, value string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		a := "--" + strings.TrimLeft(args[i], "-")
		switch {
		case strings.HasPrefix(a, "--"+name+"="):
		case a == "--"+name:
			i++
		default:
			out = append(out, args[i])
			continue
		}
		out = append(out, "--"+name+"="+value)
	}
	return out
}

// serveContainer is a container that runs tapeml serve, with what the
// checks need of its pod.
type serveContainer struct {
	where  string // e.g. "kubernetes/deployment.yaml: Deployment tapeml-serve"
	c      corev1.Container
	pod    *corev1.PodSpec // nil for a KServe runtime (KServe builds the pod)
	models string          // where the model repository must be mounted
}

// listenPort is the port of the container's --addr, which must listen
// on every interface (the kubelet probes the pod's IP).
func (sc serveContainer) listenPort() (int, error) {
	addr, ok := flagValue(sc.c.Args, "addr")
	if !ok {
		return 0, fmt.Errorf("%s: container %s: no --addr in args (the default, 127.0.0.1:8500, is unreachable from outside the pod)", sc.where, sc.c.Name)
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return 0, fmt.Errorf("%s: container %s: --addr=%s: %v", sc.where, sc.c.Name, addr, err)
	}
	if host != "" && host != "0.0.0.0" && host != "::" {
		return 0, fmt.Errorf("%s: container %s: --addr=%s listens on %s only; the kubelet and the Service reach the pod's IP (want 0.0.0.0)", sc.where, sc.c.Name, addr, host)
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 1 || p > 65535 {
		return 0, fmt.Errorf("%s: container %s: --addr=%s: want a port number", sc.where, sc.c.Name, addr)
	}
	return p, nil
}

// resolvePort is the container port number of a probe's or a Service's
// port, a number or a port name.
func resolvePort(c corev1.Container, p intstr.IntOrString) (int, error) {
	if p.Type == intstr.Int {
		return p.IntValue(), nil
	}
	for _, cp := range c.Ports {
		if cp.Name == p.StrVal {
			return int(cp.ContainerPort), nil
		}
	}
	return 0, fmt.Errorf("no container port named %q", p.StrVal)
}

// staticChecks are the checks of a serve container that need no server:
// its command, arguments, port, probes, resources, repository mount and
// shutdown.
func (sc serveContainer) staticChecks(ep []string) []error {
	var errs []error
	fail := func(format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: container %s: %s", sc.where, sc.c.Name, fmt.Sprintf(format, a...)))
	}
	c := sc.c
	if len(c.Command) != 1 || c.Command[0] != ep[0] {
		fail("command %q: want [%q], the Dockerfile's entry point binary", c.Command, ep[0])
	}
	if len(c.Args) == 0 || c.Args[0] != ep[1] {
		fail("args %q: want %q first, as the Dockerfile's entry point", c.Args, ep[1])
	}
	if v, ok := flagValue(c.Args, "models"); !ok || v != sc.models {
		fail("--models=%q: want %q", v, sc.models)
	}
	port, err := sc.listenPort()
	if err != nil {
		errs = append(errs, err)
		return errs
	}
	if len(c.Ports) != 1 || int(c.Ports[0].ContainerPort) != port || (c.Ports[0].Protocol != "" && c.Ports[0].Protocol != corev1.ProtocolTCP) {
		fail("ports %+v: want one TCP containerPort %d, the port of --addr", c.Ports, port)
	}
	for _, p := range []struct {
		name  string
		probe *corev1.Probe
		paths []string
		need  bool
	}{
		{"readinessProbe", c.ReadinessProbe, []string{readyPath}, true},
		{"livenessProbe", c.LivenessProbe, []string{livePath}, true},
		{"startupProbe", c.StartupProbe, []string{readyPath, livePath}, false},
	} {
		if p.probe == nil {
			if p.need {
				fail("no %s", p.name)
			}
			continue
		}
		g := p.probe.HTTPGet
		if g == nil {
			fail("%s: want an httpGet probe", p.name)
			continue
		}
		if !slices.Contains(p.paths, g.Path) {
			fail("%s: path %q: want one of %q", p.name, g.Path, p.paths)
		}
		if g.Scheme != "" && g.Scheme != corev1.URISchemeHTTP {
			fail("%s: scheme %s: the server speaks HTTP", p.name, g.Scheme)
		}
		if pp, err := resolvePort(c, g.Port); err != nil || pp != port {
			fail("%s: port %s (%d, %v): want %d, the port of --addr", p.name, g.Port.String(), pp, err, port)
		}
	}
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		req, okReq := c.Resources.Requests[r]
		lim, okLim := c.Resources.Limits[r]
		if !okReq || !okLim {
			fail("resources: want a request and a limit of %s", r)
		} else if req.Cmp(lim) > 0 {
			fail("resources: %s request %s above its limit %s", r, req.String(), lim.String())
		}
	}
	if sc.pod != nil {
		errs = append(errs, sc.podChecks(port)...)
	}
	return errs
}

// podChecks are a Deployment pod's: the repository volume and the drain.
func (sc serveContainer) podChecks(port int) []error {
	var errs []error
	fail := func(format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", sc.where, fmt.Sprintf(format, a...)))
	}
	i := slices.IndexFunc(sc.c.VolumeMounts, func(m corev1.VolumeMount) bool { return m.MountPath == sc.models })
	if i < 0 {
		fail("no volume mounted at --models=%s", sc.models)
	} else {
		m := sc.c.VolumeMounts[i]
		if !m.ReadOnly {
			fail("volume %s at %s: want readOnly: the servers only read the repository", m.Name, m.MountPath)
		}
		j := slices.IndexFunc(sc.pod.Volumes, func(v corev1.Volume) bool { return v.Name == m.Name })
		if j < 0 {
			fail("volume %s is mounted but not declared", m.Name)
		} else if pvc := sc.pod.Volumes[j].PersistentVolumeClaim; pvc == nil || !pvc.ReadOnly {
			fail("volume %s: want a read-only persistentVolumeClaim, shared by the replicas", m.Name)
		}
	}
	// The drain: preStop keeps the pod serving while it leaves the
	// endpoints, then SIGTERM starts the server's graceful shutdown.
	var drain int64
	if l := sc.c.Lifecycle; l == nil || l.PreStop == nil || l.PreStop.Sleep == nil || l.PreStop.Sleep.Seconds < 1 {
		fail("want a preStop sleep (the image has no shell for exec), so the pod leaves the Service before SIGTERM")
	} else {
		drain = l.PreStop.Sleep.Seconds
	}
	grace := int64(corev1.DefaultTerminationGracePeriodSeconds)
	if sc.pod.TerminationGracePeriodSeconds != nil {
		grace = *sc.pod.TerminationGracePeriodSeconds
	}
	if need := drain + int64(serve.DefaultShutdownTimeout/time.Second); grace <= need {
		fail("terminationGracePeriodSeconds %d: want more than the preStop sleep (%d s) plus the server's shutdown timeout (%v), %d s", grace, drain, serve.DefaultShutdownTimeout, need)
	}
	return errs
}

// serveContainers are every container of the manifests that runs the
// tapeml image.
func (m *manifests) serveContainers(t *testing.T) []serveContainer {
	var out []serveContainer
	for _, d := range m.deployments {
		for _, c := range d.Spec.Template.Spec.Containers {
			out = append(out, serveContainer{where: "Deployment " + d.Name, c: c, pod: &d.Spec.Template.Spec, models: "/models"})
		}
	}
	for _, r := range m.runtimes {
		for _, c := range r.Spec.Containers {
			out = append(out, serveContainer{where: "ServingRuntime " + r.Name, c: c, models: kserveDir})
		}
	}
	if len(out) < 2 {
		t.Fatalf("%d tapeml containers: want the Deployment's and the ServingRuntime's", len(out))
	}
	return out
}

func TestManifestsDecodeStrictly(t *testing.T) {
	m := loadManifests(t)
	for path, objs := range m.files {
		if len(objs) == 0 {
			t.Errorf("%s: no objects", path)
		}
	}
	// A misspelt field must fail, not be dropped.
	bad := strings.Replace(mustRead(t, "kubernetes/deployment.yaml"), "readinessProbe:", "readinesProbe:", 1)
	if _, err := decodeManifest("deployment.yaml", []byte(bad)); err == nil || !strings.Contains(err.Error(), "readinesProbe") {
		t.Errorf("a misspelt field decoded: %v", err)
	}
	bad = strings.Replace(mustRead(t, "kserve/servingruntime.yaml"), "protocolVersions:", "protocolVersion:", 1)
	if _, err := decodeManifest("servingruntime.yaml", []byte(bad)); err == nil {
		t.Error("a misspelt ServingRuntime field decoded")
	}
	bad = strings.Replace(mustRead(t, "kserve/inferenceservice.yaml"), "storageUri:", "storageURI:", 1)
	if _, err := decodeManifest("inferenceservice.yaml", []byte(bad)); err == nil {
		t.Error("a misspelt InferenceService field decoded")
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestKustomizationListsEveryManifest: kubectl apply -k applies what the
// kustomization lists, so a manifest left out of it is never deployed.
func TestKustomizationListsEveryManifest(t *testing.T) {
	m := loadManifests(t)
	k := m.kustomizations["kubernetes"]
	if k == nil {
		t.Fatal("kubernetes/kustomization.yaml: missing")
	}
	var want []string
	for path := range m.files {
		if dir, name := filepath.Split(path); dir == "kubernetes/" && name != "kustomization.yaml" {
			want = append(want, name)
		}
	}
	slices.Sort(want)
	got := slices.Sorted(slices.Values(k.Resources))
	if !slices.Equal(got, want) {
		t.Errorf("kubernetes/kustomization.yaml: resources %q, the folder holds %q", got, want)
	}
}

func TestServeContainersStatic(t *testing.T) {
	m := loadManifests(t)
	ep := entrypoint(t)
	for _, sc := range m.serveContainers(t) {
		for _, err := range sc.staticChecks(ep) {
			t.Error(err)
		}
	}
	for _, r := range m.runtimes {
		for _, c := range r.Spec.Containers {
			if c.Name != "kserve-container" {
				t.Errorf("ServingRuntime %s: container %q: KServe routes to kserve-container", r.Name, c.Name)
			}
			sc := serveContainer{where: "ServingRuntime " + r.Name, c: c}
			if p, err := sc.listenPort(); err == nil && p != kservePort {
				t.Errorf("ServingRuntime %s: --addr port %d: KServe sends traffic to %d", r.Name, p, kservePort)
			}
		}
	}
}

// TestStaticChecksCatchDrift changes the Deployment the ways it could
// drift and wants each caught.
func TestStaticChecksCatchDrift(t *testing.T) {
	m := loadManifests(t)
	ep := entrypoint(t)
	base := m.serveContainers(t)[0]
	for _, tc := range []struct {
		name   string
		change func(c *corev1.Container, pod *corev1.PodSpec)
		want   string
	}{
		{"readiness path", func(c *corev1.Container, _ *corev1.PodSpec) { c.ReadinessProbe.HTTPGet.Path = "/healthz" }, "readinessProbe: path"},
		{"liveness on ready", func(c *corev1.Container, _ *corev1.PodSpec) { c.LivenessProbe.HTTPGet.Path = readyPath }, "livenessProbe: path"},
		{"probe port", func(c *corev1.Container, _ *corev1.PodSpec) { c.ReadinessProbe.HTTPGet.Port = intstr.FromInt(9000) }, "readinessProbe: port"},
		{"probe port name", func(c *corev1.Container, _ *corev1.PodSpec) {
			c.LivenessProbe.HTTPGet.Port = intstr.FromString("metrics")
		}, "livenessProbe: port"},
		{"addr port", func(c *corev1.Container, _ *corev1.PodSpec) { c.Args = withFlag(c.Args, "addr", "0.0.0.0:9000") }, "ports"},
		{"addr loopback", func(c *corev1.Container, _ *corev1.PodSpec) { c.Args = withFlag(c.Args, "addr", "127.0.0.1:8500") }, "listens on 127.0.0.1 only"},
		{"models", func(c *corev1.Container, _ *corev1.PodSpec) { c.Args = withFlag(c.Args, "models", "/data") }, "--models"},
		{"writable mount", func(c *corev1.Container, _ *corev1.PodSpec) { c.VolumeMounts[0].ReadOnly = false }, "want readOnly"},
		{"grace", func(_ *corev1.Container, pod *corev1.PodSpec) { g := int64(30); pod.TerminationGracePeriodSeconds = &g }, "terminationGracePeriodSeconds"},
		{"no preStop", func(c *corev1.Container, _ *corev1.PodSpec) { c.Lifecycle = nil }, "preStop"},
		{"limits", func(c *corev1.Container, _ *corev1.PodSpec) {
			c.Resources.Limits[corev1.ResourceCPU] = resource.MustParse("100m")
		}, "above its limit"},
		{"command", func(c *corev1.Container, _ *corev1.PodSpec) { c.Command = []string{"/tapeml"} }, "command"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := base
			sc.c = *base.c.DeepCopy()
			sc.pod = base.pod.DeepCopy()
			tc.change(&sc.c, sc.pod)
			errs := sc.staticChecks(ep)
			if !slices.ContainsFunc(errs, func(e error) bool { return strings.Contains(e.Error(), tc.want) }) {
				t.Errorf("not caught (want an error with %q): %v", tc.want, errs)
			}
		})
	}
	if errs := base.staticChecks(ep); len(errs) > 0 {
		t.Errorf("the unchanged Deployment fails: %v", errs)
	}
}

// TestProbesAgainstTheServer runs the real tapeml binary with each
// container's command line — only the repository and the listen address
// changed, to a tiny repository on 127.0.0.1 — and GETs every probe path
// from it: 200 wanted, as the kubelet wants. An unknown flag in the args,
// or a path the server does not route, fails here.
func TestProbesAgainstTheServer(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs tapeml")
	}
	m := loadManifests(t)
	bin := tapemlBinary(t)
	repo := tinyRepository(t)
	client := &http.Client{Timeout: 10 * time.Second}
	for _, sc := range m.serveContainers(t) {
		t.Run(sc.where, func(t *testing.T) {
			args := withFlag(withFlag(sc.c.Args, "models", repo), "addr", "127.0.0.1:0")
			s, err := startServer(bin, args)
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				if err := s.stop(); err != nil {
					t.Errorf("graceful stop: %v\n%s", err, s.stderr())
				}
			}()
			for _, p := range []*corev1.Probe{sc.c.StartupProbe, sc.c.ReadinessProbe, sc.c.LivenessProbe} {
				if p == nil || p.HTTPGet == nil {
					continue
				}
				code, body, err := get(client, s.url()+p.HTTPGet.Path)
				if err != nil || code != http.StatusOK {
					t.Errorf("%s: GET %s: %d %s %v", sc.where, p.HTTPGet.Path, code, bytes.TrimSpace(body), err)
				}
			}
			// A probe path the server does not route is caught the same way.
			if code, _, err := get(client, s.url()+"/healthz"); err != nil || code != http.StatusNotFound {
				t.Errorf("GET /healthz: %d %v, want 404", code, err)
			}
		})
	}
}

// selects reports whether a label selector picks a pod template's labels.
func selects(sel *metav1.LabelSelector, podLabels map[string]string) (bool, error) {
	if sel == nil {
		return false, fmt.Errorf("no selector")
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return false, err
	}
	return !s.Empty() && s.Matches(labels.Set(podLabels)), nil
}

// TestObjectsReferToEachOther: the Service, the autoscaler, the
// disruption budget and the claim all name the Deployment's pods.
func TestObjectsReferToEachOther(t *testing.T) {
	m := loadManifests(t)
	if len(m.deployments) != 1 || len(m.services) != 1 || len(m.hpas) != 1 || len(m.pdbs) != 1 || len(m.pvcs) != 1 {
		t.Fatalf("%d deployments, %d services, %d autoscalers, %d disruption budgets, %d claims: want one of each",
			len(m.deployments), len(m.services), len(m.hpas), len(m.pdbs), len(m.pvcs))
	}
	d, svc, hpa, pdb, pvc := m.deployments[0], m.services[0], m.hpas[0], m.pdbs[0], m.pvcs[0]
	pod := d.Spec.Template
	if ok, err := selects(d.Spec.Selector, pod.Labels); !ok {
		t.Errorf("Deployment %s: its selector does not pick its pods (%v)", d.Name, err)
	}
	if len(svc.Spec.Selector) == 0 || !labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(pod.Labels)) {
		t.Errorf("Service %s: selector %v does not pick the pods %v", svc.Name, svc.Spec.Selector, pod.Labels)
	}
	c := pod.Spec.Containers[0]
	port, err := serveContainer{where: "Deployment " + d.Name, c: c}.listenPort()
	if err != nil {
		t.Fatal(err)
	}
	for _, sp := range svc.Spec.Ports {
		if tp, err := resolvePort(c, sp.TargetPort); err != nil || tp != port {
			t.Errorf("Service %s: targetPort %s (%d, %v): want %d, the server's port", svc.Name, sp.TargetPort.String(), tp, err, port)
		}
	}
	ref := hpa.Spec.ScaleTargetRef
	if ref.APIVersion != "apps/v1" || ref.Kind != "Deployment" || ref.Name != d.Name {
		t.Errorf("HorizontalPodAutoscaler %s: scales %s %s %s, not the Deployment %s", hpa.Name, ref.APIVersion, ref.Kind, ref.Name, d.Name)
	}
	minR := int32(1)
	if hpa.Spec.MinReplicas != nil {
		minR = *hpa.Spec.MinReplicas
	}
	if minR < 2 || minR > hpa.Spec.MaxReplicas {
		t.Errorf("HorizontalPodAutoscaler %s: replicas %d to %d: want at least 2, so one can be lost", hpa.Name, minR, hpa.Spec.MaxReplicas)
	}
	if d.Spec.Replicas == nil || *d.Spec.Replicas < minR || *d.Spec.Replicas > hpa.Spec.MaxReplicas {
		t.Errorf("Deployment %s: replicas %v outside the autoscaler's %d to %d", d.Name, d.Spec.Replicas, minR, hpa.Spec.MaxReplicas)
	}
	for _, mt := range hpa.Spec.Metrics {
		if mt.Resource != nil && mt.Resource.Target.Type == autoscalingv2.UtilizationMetricType {
			if _, ok := c.Resources.Requests[mt.Resource.Name]; !ok {
				t.Errorf("HorizontalPodAutoscaler %s: %s utilization needs a %s request in the pods", hpa.Name, mt.Resource.Name, mt.Resource.Name)
			}
		}
	}
	if ok, err := selects(pdb.Spec.Selector, pod.Labels); !ok {
		t.Errorf("PodDisruptionBudget %s: its selector does not pick the pods (%v)", pdb.Name, err)
	}
	// A drain must leave at least one replica serving.
	switch {
	case pdb.Spec.MaxUnavailable != nil:
		if n, err := intstr.GetScaledValueFromIntOrPercent(pdb.Spec.MaxUnavailable, int(minR), true); err != nil || n >= int(minR) {
			t.Errorf("PodDisruptionBudget %s: maxUnavailable %s of %d replicas leaves none (%v)", pdb.Name, pdb.Spec.MaxUnavailable.String(), minR, err)
		}
	case pdb.Spec.MinAvailable != nil:
		if n, err := intstr.GetScaledValueFromIntOrPercent(pdb.Spec.MinAvailable, int(minR), true); err != nil || n < 1 || n >= int(minR) {
			t.Errorf("PodDisruptionBudget %s: minAvailable %s of %d replicas: want 1 to %d", pdb.Name, pdb.Spec.MinAvailable.String(), minR, minR-1)
		}
	default:
		t.Errorf("PodDisruptionBudget %s: neither minAvailable nor maxUnavailable", pdb.Name)
	}
	for _, v := range pod.Spec.Volumes {
		if v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ClaimName != pvc.Name {
			t.Errorf("Deployment %s: volume %s claims %q; the claim is %q", d.Name, v.Name, v.PersistentVolumeClaim.ClaimName, pvc.Name)
		}
	}
	if !slices.Contains(pvc.Spec.AccessModes, corev1.ReadWriteMany) && !slices.Contains(pvc.Spec.AccessModes, corev1.ReadOnlyMany) {
		t.Errorf("PersistentVolumeClaim %s: access modes %v: replicas on several nodes need ReadWriteMany or ReadOnlyMany", pvc.Name, pvc.Spec.AccessModes)
	}
}

// TestInferenceServiceUsesTheRuntime: the InferenceService names the
// runtime, a model format it supports and the v2 protocol it speaks.
func TestInferenceServiceUsesTheRuntime(t *testing.T) {
	m := loadManifests(t)
	if len(m.runtimes) != 1 || len(m.isvcs) != 1 {
		t.Fatalf("%d serving runtimes, %d inference services: want one of each", len(m.runtimes), len(m.isvcs))
	}
	rt, isvc := m.runtimes[0], m.isvcs[0]
	if !slices.Contains(rt.Spec.ProtocolVersions, "v2") {
		t.Errorf("ServingRuntime %s: protocols %q: the server speaks v2", rt.Name, rt.Spec.ProtocolVersions)
	}
	if rt.Spec.MultiModel != nil && *rt.Spec.MultiModel {
		t.Errorf("ServingRuntime %s: multiModel is ModelMesh's; tapeml serve is a single-model-server runtime", rt.Name)
	}
	model := isvc.Spec.Predictor.Model
	if model == nil {
		t.Fatalf("InferenceService %s: no predictor.model", isvc.Name)
	}
	if model.Runtime == nil || *model.Runtime != rt.Name {
		t.Errorf("InferenceService %s: runtime %v, want %q", isvc.Name, model.Runtime, rt.Name)
	}
	if model.ProtocolVersion == nil || *model.ProtocolVersion != "v2" {
		t.Errorf("InferenceService %s: protocolVersion %v, want v2", isvc.Name, model.ProtocolVersion)
	}
	supported := slices.ContainsFunc(rt.Spec.SupportedModelFormats, func(f supportedModelFormat) bool {
		return f.Name == model.ModelFormat.Name && (model.ModelFormat.Version == nil || (f.Version != nil && *f.Version == *model.ModelFormat.Version))
	})
	if !supported {
		t.Errorf("InferenceService %s: model format %q is not one of the runtime's", isvc.Name, model.ModelFormat.Name)
	}
	if model.StorageURI == nil || *model.StorageURI == "" {
		t.Errorf("InferenceService %s: no storageUri", isvc.Name)
	} else if claim, ok := strings.CutPrefix(*model.StorageURI, "pvc://"); ok {
		claim, _, _ = strings.Cut(claim, "/")
		if len(m.pvcs) == 0 || claim != m.pvcs[0].Name {
			t.Errorf("InferenceService %s: storageUri %s: no such claim in kubernetes/", isvc.Name, *model.StorageURI)
		}
	}
	p := isvc.Spec.Predictor
	if p.MinReplicas == nil || *p.MinReplicas < 2 || (p.MaxReplicas != 0 && p.MaxReplicas < *p.MinReplicas) {
		t.Errorf("InferenceService %s: replicas %v to %d: want at least 2", isvc.Name, p.MinReplicas, p.MaxReplicas)
	}
}
