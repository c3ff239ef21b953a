// Package deploy holds tapeml serve's deployment manifests and their
// tests, in a module of its own so that the core module does not carry
// the Kubernetes API types:
//
//   - kubernetes/: a Deployment of the tapeml image over a shared model
//     repository (a PersistentVolumeClaim), a Service, a
//     HorizontalPodAutoscaler and a PodDisruptionBudget (kubectl apply -k);
//   - kserve/: a KServe ServingRuntime speaking the Open Inference
//     Protocol v2, and an InferenceService that uses it.
//
// manifests_test.go decodes every manifest strictly with the Kubernetes
// API types (a local mirror for the KServe and kustomize kinds, kserve_test.go),
// runs the real tapeml binary with each container's arguments and checks
// the probes and ports against it. replicas_test.go (build tag replicas)
// runs three tapeml serve processes behind HAProxy under load while a new
// model version appears and a replica is killed: docs/replicas.md.
package deploy
