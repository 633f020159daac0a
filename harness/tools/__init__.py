"""Tools around the stages: the benchmark and the sample scaffolding."""
