package deploy_test

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The KServe and kustomize kinds are decoded into local mirrors of their
// Go API types (github.com/kserve/kserve pkg/apis/serving v1alpha1 and
// v1beta1), not the types themselves: KServe's module pulls in Knative,
// Istio and controller-runtime. The mirrors keep KServe's JSON names and
// hold the fields these manifests may use; decoding is strict, so a field
// they do not know fails the test rather than being ignored.

// servingRuntime mirrors serving.kserve.io/v1alpha1 ServingRuntime.
type servingRuntime struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              servingRuntimeSpec `json:"spec"`
}

type servingRuntimeSpec struct {
	SupportedModelFormats []supportedModelFormat `json:"supportedModelFormats,omitempty"`
	MultiModel            *bool                  `json:"multiModel,omitempty"`
	Disabled              *bool                  `json:"disabled,omitempty"`
	ProtocolVersions      []string               `json:"protocolVersions,omitempty"` // v1, v2, grpc-v1, grpc-v2

	// ServingRuntimePodSpec, inline in KServe.
	Containers       []corev1.Container            `json:"containers"`
	Volumes          []corev1.Volume               `json:"volumes,omitempty"`
	NodeSelector     map[string]string             `json:"nodeSelector,omitempty"`
	Affinity         *corev1.Affinity              `json:"affinity,omitempty"`
	Tolerations      []corev1.Toleration           `json:"tolerations,omitempty"`
	Labels           map[string]string             `json:"labels,omitempty"`
	Annotations      map[string]string             `json:"annotations,omitempty"`
	ImagePullSecrets []corev1.LocalObjectReference `json:"imagePullSecrets,omitempty"`
}

type supportedModelFormat struct {
	Name       string  `json:"name"`
	Version    *string `json:"version,omitempty"`
	AutoSelect *bool   `json:"autoSelect,omitempty"`
	Priority   *int32  `json:"priority,omitempty"`
}

// inferenceService mirrors serving.kserve.io/v1beta1 InferenceService
// with a predictor of the model kind (predictor.model).
type inferenceService struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              struct {
		Predictor predictorSpec `json:"predictor"`
	} `json:"spec"`
}

type predictorSpec struct {
	Model *modelSpec `json:"model,omitempty"`

	// ComponentExtensionSpec, inline in KServe.
	MinReplicas          *int32            `json:"minReplicas,omitempty"`
	MaxReplicas          int32             `json:"maxReplicas,omitempty"`
	ScaleTarget          *int32            `json:"scaleTarget,omitempty"`
	ScaleMetric          *string           `json:"scaleMetric,omitempty"` // cpu, memory, concurrency, rps
	ContainerConcurrency *int64            `json:"containerConcurrency,omitempty"`
	TimeoutSeconds       *int64            `json:"timeout,omitempty"`
	Labels               map[string]string `json:"labels,omitempty"`
	Annotations          map[string]string `json:"annotations,omitempty"`

	// The PodSpec fields KServe inlines that a predictor commonly sets.
	ServiceAccountName string              `json:"serviceAccountName,omitempty"`
	NodeSelector       map[string]string   `json:"nodeSelector,omitempty"`
	Tolerations        []corev1.Toleration `json:"tolerations,omitempty"`
}

type modelSpec struct {
	ModelFormat struct {
		Name    string  `json:"name"`
		Version *string `json:"version,omitempty"`
	} `json:"modelFormat"`
	Runtime *string `json:"runtime,omitempty"`

	// PredictorExtensionSpec, inline in KServe (with corev1.Container,
	// whose fields override the runtime's container).
	StorageURI       *string `json:"storageUri,omitempty"`
	RuntimeVersion   *string `json:"runtimeVersion,omitempty"`
	ProtocolVersion  *string `json:"protocolVersion,omitempty"`
	corev1.Container `json:",inline"`
}

// kustomization mirrors kustomize.config.k8s.io/v1beta1 Kustomization,
// the fields used here.
type kustomization struct {
	metav1.TypeMeta `json:",inline"`
	Labels          []struct {
		Pairs            map[string]string `json:"pairs"`
		IncludeSelectors bool              `json:"includeSelectors,omitempty"`
		IncludeTemplates bool              `json:"includeTemplates,omitempty"`
	} `json:"labels,omitempty"`
	Namespace string   `json:"namespace,omitempty"`
	Resources []string `json:"resources"`
}
