"""The probes a step is proven by: the runner carries out each probe's action and judges its
expectation against the real daemons (the dialogues themselves are wizard.net's)."""
