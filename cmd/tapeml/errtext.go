package main

import (
	"regexp"
	"strings"
)

// The library's errors name its Go fields and config keys, which a CLI
// user never sees; flagTerms rewrites them to the flags that set them.

var goFields = strings.NewReplacer(
	"TextOptions.TextColumn", "--text-column",
	"TextOptions.LabelColumn", "--label-column",
	"TextOptions.KeepHeaders", "--keep-headers",
	"TextOptions.KeepHTML", "--keep-html",
	"PadConfig.MaxLen", "--maxlen",
	"PadConfig.Padding", "--padding",
	"PadConfig.Truncating", "--truncating",
)

// configKey matches "epochs must …" (train.Config), "textcnn: embed_dim
// must …" (model configs) and "optim: config field weight_decay = …".
var configKey = regexp.MustCompile(`(^|: )(?:(?:textcnn|lstm|convnet|mf): )?([a-z][a-z0-9_]*) must\b|optim: (?:config|schedule) field ([a-z0-9_]+)`)

// keyFlags maps config keys to their flags where the names differ.
var keyFlags = map[string]string{
	"name": "optimizer", "total_steps/total_epochs": "epochs", "warmup_steps": "warmup",
	"every_epochs": "decay-every",
}

// trainKeys are the config keys the train command has flags for.
var trainKeys = map[string]bool{
	"epochs": true, "batch": true, "lr": true, "patience": true, "num_words": true, "embed_dim": true,
	"filters": true, "kernel": true, "pool": true, "maxlen": true, "hidden": true, "layers": true,
	"dropout": true, "momentum": true, "weight_decay": true, "l1": true, "clip_norm": true, "gamma": true,
	"name": true, "factors": true, "reg": true,
}

func flagTerms(msg string) string {
	msg = goFields.Replace(msg)
	return configKey.ReplaceAllStringFunc(msg, func(m string) string {
		sub := configKey.FindStringSubmatch(m)
		key := sub[2] + sub[3]
		if !trainKeys[key] {
			return m
		}
		flag := keyFlags[key]
		if flag == "" {
			flag = strings.ReplaceAll(key, "_", "-")
		}
		if sub[3] != "" {
			return "--" + flag
		}
		return sub[1] + "--" + flag + " must"
	})
}
