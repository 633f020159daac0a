"""The files the stages hand each other: the trace, the run's record, a traces folder's index,
the normalized steps and the analysis. One definition of each, shared by writer and reader."""
