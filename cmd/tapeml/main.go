package main

import (
	"context"
	"io"
	"os"
	"strings"
)

// env is a command's world: its arguments and streams.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	// ctx, if set, replaces the Ctrl-C/SIGTERM context a training runs
	// under (tests interrupt through it).
	ctx context.Context
}

type command struct {
	name, usage string
	run         func(e env, args []string) error
}

var commands = []command{
	{"train", "train a model: tapeml train MODEL [flags]", runTrain},
	{"eval", "evaluate a checkpoint on its test split or --data", runEval},
	{"predict", "predict texts from the arguments or stdin", runPredict},
	{"explain", "explain predictions: token and pixel attributions, recommender neighbours", runExplain},
	{"recommend", "recommend items to a user from a recommender checkpoint", runRecommend},
	{"similar", "list similar users or items from a recommender checkpoint", runSimilar},
	{"export", "export a checkpoint as safetensors (PyTorch) or ONNX", runExport},
	{"import", "turn a safetensors state_dict into a checkpoint", runImport},
	{"models", "list model kinds and their default configurations", runModels},
	{"bench", "measure training throughput against PyTorch on this machine", runBench},
	{"serve", "serve a model repository over HTTP (Open Inference Protocol v2, TF Serving REST)", runServe},
	{"optimize", "quantize a checkpoint to int8 for serving: tapeml optimize --checkpoint DIR --int8 --out DIR", runOptimize},
}

func main() {
	os.Exit(run(os.Args[1:], env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}))
}

// oneLine keeps error messages to a single line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
