"""Comparing normalized sides: the alignment against the reference, and the analysis of a
traces folder (every scenario's tables, verdicts and grid)."""
