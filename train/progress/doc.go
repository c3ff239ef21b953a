// Package progress reports training progress on a terminal or a log.
//
// A Reporter gets StartEpoch, a stream of Update calls as batches finish,
// and EndEpoch with the epoch's metrics. On a terminal it redraws one line
// in place with a carriage return, at most about ten times a second:
//
//	epoch 3/10 [=======>                      ] 812/1600 312 samples/s ETA 0:03 loss 0.2311
//
// When the output is a pipe, a file or a CI log it writes a plain line
// every 20 seconds of an epoch (Config.LogInterval), without the bar:
//
//	epoch 3/10 812/1600 312 samples/s ETA 0:03 loss 0.2311
//
// Either way each epoch ends with one plain line, metrics in the
// order the caller gives them:
//
//	epoch 3/10  train/loss 0.2311  train/accuracy 0.9410  val/loss 0.1801  val/accuracy 0.9550  (4.1s, 390 samples/s)
//
// The clock is injectable (Config.Now) so tests and replays are exact.
package progress
