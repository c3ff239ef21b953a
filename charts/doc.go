// Package charts draws tapeml's figures with gonum.org/v1/plot: a
// training run's history (a panel per metric family, the best epoch
// marked), a classifier's confusion matrix, and attribution maps with a
// diverging colour bar. A Figure is written as PNG or SVG; its text is
// real text (Liberation Sans), which an SVG keeps as <text> elements.
//
//	f := charts.History(run.History, charts.HistoryOptions{Title: "textcnn", Monitor: "val/loss", BestEpoch: 7})
//	err := f.Write(w, charts.PNG)
//
// The inference runtime does not link this package.
package charts
