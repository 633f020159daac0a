"""Normalization: from a trace to the echo's sequence of socket steps, at a chosen level.

    from harness.normalize import normalize, load_rules
    result = normalize(trace, run, "server", "canonical")   # rules: the packaged rules.yaml
    result.steps, result.attributes

Rules are data (rules.yaml beside this file, the syscall table harness/tables/syscalls.yaml); each
rule kind is one function in kinds/. The textbook sequence of each scenario
(harness/tables/scenarios.yaml, named by rules.yaml) comes with the rules:
`default_rules().textbooks.get("udp", "client")`.
"""

from harness.normalize.attributes import (Attributes, SocketOption, UnrelatedSocket,
                                          declare_own_options)
from harness.normalize.engine import Normalized, NormalizeError, normalize
from harness.normalize.rules import (DEFAULT_RULES, LEVELS, Rule, RuleError, RuleSet,
                                     default_rules, load_rules)
from harness.normalize.steps import GAP, Step, format_call
from harness.normalize.textbook import (Textbook, TextbookError, Textbooks, load_textbooks,
                                        run_address)

__all__ = ["Attributes", "DEFAULT_RULES", "GAP", "LEVELS", "Normalized",
           "NormalizeError", "Rule", "RuleError", "RuleSet", "SocketOption", "Step", "Textbook",
           "TextbookError", "Textbooks", "UnrelatedSocket", "declare_own_options",
           "default_rules", "format_call", "load_rules", "load_textbooks", "normalize",
           "run_address"]
