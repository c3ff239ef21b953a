// Package metrics computes evaluation metrics, keeps the per-epoch training
// history, and decides when to stop early (package charts plots them).
//
// The metric functions follow scikit-learn's definitions so numbers can be
// checked against Python:
//
//   - Binary classification (CountBinary, BinaryCounts, ROCAUC): the model
//     outputs the probability of class 1; a probability above
//     BinaryThreshold (0.5, strictly, like Keras and torchmetrics) predicts
//     class 1. Precision, recall and F1 define 0/0 as 0, like scikit-learn's
//     zero_division=0. ROC-AUC is exact: the trapezoidal area over distinct
//     thresholds, so tied scores count one half, as in roc_auc_score; it is
//     undefined, and ROCAUC returns NaN and ErrOneClass, when the labels hold
//     only one class.
//   - Multiclass (ConfusionMatrix, Confusion): the predicted class is the
//     argmax of a row of logits or probabilities (the first one on ties, like
//     numpy and PyTorch); rows of the matrix are true classes, columns the
//     predicted ones, as in sklearn.metrics.confusion_matrix.
//   - Per class (Confusion.Report): precision, recall, F1 and support of
//     each class with their macro and support-weighted averages, laid out
//     by Report.Format as classification_report prints them.
//   - Curves (ROCCurve, PRCurve, AveragePrecision): roc_curve (with
//     drop_intermediate), precision_recall_curve and
//     average_precision_score of scores against 0/1 labels; OneVsRest
//     gives one class's binary view of N classes' probabilities. The
//     scikit-learn equivalence is tested against goldens that
//     tools/sklearn/metrics_golden.py writes.
//   - Regression: RMSE and MAE.
//
// An Accumulator collects a whole epoch batch by batch and gives a Result:
// the loss weighted by batch size (so a partial last batch counts for what it
// holds) and the task's metrics under fixed names ("loss", "accuracy",
// "precision", "recall", "f1", "auc", "rmse", "mae").
//
// A History holds one row of named values per epoch ("epoch", "train/loss",
// "val/accuracy", "lr", "time_s", ...). It writes CSV, marshals to JSON for
// checkpoint metadata, and finds the best epoch of a metric. EarlyStopping watches
// one metric and its state marshals to JSON so a resumed run stops exactly
// where the uninterrupted one would have.
//
// NaN stands for "no value" throughout: a metric that could not be computed
// (AUC of a one-class validation set, accuracy after the model produced NaN)
// or a column missing from an epoch.
package metrics
