"""Rule kinds: each one function `(steps, rule, ctx) -> steps`, with its parameters declared.

The rules file (rules.yaml) names a kind per rule and gives its parameters; `KINDS` maps each
kind name to its function and parameter table, which the loader uses to check the file.
A kind never changes its input: it returns new steps (dataclasses.replace). The condition
language is in match.py, the parameter checkers in params.py, and the kinds by what they do:
socket_level.py (the socket level), naming.py, calls.py and transfers.py (the canonical level).
"""

from __future__ import annotations

from harness.normalize.kinds.calls import (drop, drop_retried, fold_into_creator,
                                           fold_pending_connect, fold_references,
                                           split_messages)
from harness.normalize.kinds.match import parse_match
from harness.normalize.kinds.naming import (alias, alias_by_end, fold_local_address,
                                            fold_v4mapped, qualify, show_arg, strip_flags)
from harness.normalize.kinds.params import (Kind, Param, p_arg_names, p_bool, p_name_map,
                                            p_names, p_str, p_values)
from harness.normalize.kinds.socket_level import (echo_sockets, mark_eof, mark_unfinished,
                                                  mask_paths, mask_ports)
from harness.normalize.kinds.transfers import fold_interleaved, merge_transfers

# -- the table the loader checks rules against -----------------------------------------------

_WHEN = Param(parse_match)
_WHEN_REQUIRED = Param(parse_match, required=True)

KINDS: dict[str, Kind] = {
    "echo_sockets": Kind(echo_sockets, {
        "names": Param(p_name_map, default={"listener": "listener", "conn": "conn",
                                            "sock": "sock"}),
        "other": Param(p_str, default="other")}),
    "mask_ports": Kind(mask_ports, {"run_port": Param(p_str, default="PORT"),
                                    "other_ports": Param(p_str, default="*")}),
    "mask_paths": Kind(mask_paths, {"run_path": Param(p_str, default="PATH"),
                                    "run_dir": Param(p_str, default="RUNDIR")}),
    "mark_eof": Kind(mark_eof, {"when": _WHEN_REQUIRED}),
    "mark_unfinished": Kind(mark_unfinished, {"when": _WHEN}),
    "drop": Kind(drop, {"when": _WHEN_REQUIRED, "tally": Param(p_str),
                        "tally_detail": Param(p_names, default=())}),
    "alias": Kind(alias, {"only": Param(p_names), "when": _WHEN}),
    "alias_by_end": Kind(alias_by_end, {"ends": Param(p_arg_names), "when": _WHEN}),
    "drop_retried": Kind(drop_retried, {"when": _WHEN_REQUIRED}),
    "fold_references": Kind(fold_references, {"name": Param(p_str, default="close")}),
    "split_messages": Kind(split_messages, {}),
    "fold_into_creator": Kind(fold_into_creator, {
        "when": _WHEN_REQUIRED, "mark": Param(p_str, required=True),
        "extra_arg": Param(p_names, default=("cmd", "request"))}),
    "strip_flags": Kind(strip_flags, {"args": Param(p_names, required=True),
                                      "flags": Param(p_names, required=True), "when": _WHEN}),
    "show_arg": Kind(show_arg, {"arg": Param(p_str, required=True),
                                "hide": Param(p_values), "when": _WHEN}),
    "qualify": Kind(qualify, {"arg": Param(p_str, required=True), "hide": Param(p_values),
                              "show": Param(p_bool, default=False), "when": _WHEN}),
    "fold_v4mapped": Kind(fold_v4mapped, {"mark": Param(p_str, default="v4-mapped")}),
    "fold_local_address": Kind(fold_local_address, {"run_port": Param(p_str, default="PORT"),
                                                    "when": _WHEN}),
    "fold_pending_connect": Kind(fold_pending_connect, {
        "pending": Param(p_names, default=("EINPROGRESS",)),
        "check": _WHEN_REQUIRED, "until": _WHEN, "extra": Param(p_str, default="SO_ERROR")}),
    "merge_transfers": Kind(merge_transfers, {
        "when": _WHEN_REQUIRED, "split_at_message": Param(p_bool, default=True),
        "merge_datagrams": Param(p_bool, default=False), "peek": _WHEN}),
    "fold_interleaved": Kind(fold_interleaved, {
        "when": _WHEN_REQUIRED, "split_at_message": Param(p_bool, default=True),
        "mark": Param(p_str, default="interleaved"), "peek": _WHEN}),
}
