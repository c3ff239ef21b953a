package textdata

import "github.com/tapeml/tapeml/dataset"

// BuiltinSample names the built-in SpamAssassin sample (package samples registers it): a data path of that name reads it, and the runs
// trained on it record it. Programs that read it link package samples.
const BuiltinSample = dataset.BuiltinPrefix + "spamassassin-sample"

// BuiltinGroups names the built-in SpamAssassin sample as a three-class
// task (package samples registers it): the classes are the corpus's groups
// without their numbers, "easy_ham", "hard_ham" and "spam"
// (SpamAssassinGroupsCorpus).
const BuiltinGroups = dataset.BuiltinPrefix + "spamassassin-groups"
