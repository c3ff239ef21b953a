package explain_test

import (
	"context"
	"fmt"
	"log"

	"github.com/tapeml/tapeml"
	"github.com/tapeml/tapeml/explain"
)

// Attribute a text model's spam logit to the words of a message with
// Integrated Gradients from the all-padding input, and check completeness
// (the scores add up to f(x) − f(baseline)): the adaptive rule (the
// default) refines the path until they do, where 50 fixed Gauss–Legendre
// points fall short.
func ExampleTexts() {
	m, err := tapeml.Load("../testdata/legacy/textcnn")
	if err != nil {
		log.Fatal(err)
	}
	texts := []string{"WIN free cash NOW, xyzzy"}
	ex, err := explain.Texts(context.Background(), m, texts, explain.Options{})
	if err != nil {
		log.Fatal(err)
	}
	e := ex[0]
	for _, t := range e.Tokens {
		fmt.Print(t.Token, " ")
	}
	fmt.Println("| unknown:", e.Unknown)
	fmt.Println("explains the logit of", e.Target, "| adaptive within 1%:", e.Converged(), "| evaluations:", e.Evaluations)
	ex, err = explain.Texts(context.Background(), m, texts, explain.Options{Quadrature: explain.QuadratureGauss, Steps: 50})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("50 Gauss–Legendre points within 1%:", ex[0].Converged())
	// Output:
	// WIN free cash NOW | unknown: [xyzzy]
	// explains the logit of spam | adaptive within 1%: true | evaluations: 48
	// 50 Gauss–Legendre points within 1%: false
}
