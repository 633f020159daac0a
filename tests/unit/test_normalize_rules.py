"""Loading rules files: the packaged one loads; every mistake names the file and the rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.normalize import DEFAULT_RULES, RuleError, load_rules
from harness.normalize.syscalls import SyscallTableError, parse_syscall_table


def write(tmp_path: Path, text: str, name: str = "myrules.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_packaged_rules_load_in_order() -> None:
    rules = load_rules(DEFAULT_RULES)
    levels = [r.level for r in rules.rules]
    assert levels == sorted(levels, key=["socket", "canonical"].index)
    assert rules.rules[0].kind == "echo_sockets"
    assert all(r.where.startswith(str(DEFAULT_RULES)) for r in rules.rules)
    assert len({r.id for r in rules.rules}) == len(rules.rules)


def test_unknown_kind_names_file_and_rule(tmp_path: Path) -> None:
    path = write(tmp_path, """
rules:
  - {id: ok, level: canonical, kind: drop, when: {syscall: fcntl}}
  - {id: typo, level: canonical, kind: dorp, when: {syscall: fcntl}}
""")
    with pytest.raises(RuleError) as e:
        load_rules(path)
    msg = str(e.value)
    assert str(path) in msg and "rule #2 (typo)" in msg and "unknown kind 'dorp'" in msg
    assert "drop" in msg  # lists the known kinds


def test_missing_field_names_file_and_rule(tmp_path: Path) -> None:
    path = write(tmp_path, "- {id: no-when, level: canonical, kind: drop}\n")
    with pytest.raises(RuleError, match=r"myrules\.yaml: rule #1 \(no-when\): missing field "
                                        r"'when' \(kind 'drop'\)"):
        load_rules(path)


@pytest.mark.parametrize("rule,message", [
    ("{level: canonical, kind: drop, when: {syscall: x}}", r"rule #1: missing field 'id'"),
    ("{id: r, kind: drop, when: {syscall: x}}", r"rule #1 \(r\): missing field 'level'"),
    ("{id: r, level: canonical, when: {syscall: x}}", r"rule #1 \(r\): missing field 'kind'"),
    ("{id: r, level: fancy, kind: drop, when: {syscall: x}}", r"level 'fancy' is not one of"),
    ("{id: r, level: canonical, kind: drop, when: {syscall: x}, extra: 1}",
     r"rule #1 \(r\): unknown field 'extra' for kind 'drop'"),
    ("{id: r, level: canonical, kind: drop, when: {klass: recv_like}}",
     r"rule #1 \(r\): field 'when': unknown condition 'klass'"),
    ("{id: r, level: canonical, kind: drop, when: {class: recv_lik}}",
     r"rule #1 \(r\): field 'when': unknown syscall class 'recv_lik'"),
    ("{id: r, level: canonical, kind: merge_transfers, when: {name: recv}, "
     "split_at_message: maybe}", r"field 'split_at_message': expected true or false"),
    ("{id: r, level: canonical, kind: strip_flags, args: [flags]}",
     r"rule #1 \(r\): missing field 'flags'"),
    ("{id: r, level: socket, kind: echo_sockets, names: {server: srv}}",
     r"unknown socket role 'server'"),
    ("just a string", r"rule #1: a rule must be a mapping"),
])
def test_malformed_rules(tmp_path: Path, rule: str, message: str) -> None:
    path = write(tmp_path, f"- {rule}\n")
    with pytest.raises(RuleError, match=message) as e:
        load_rules(path)
    assert str(path) in str(e.value)


def test_duplicate_id(tmp_path: Path) -> None:
    path = write(tmp_path, """
- {id: same, level: canonical, kind: drop, when: {syscall: a}}
- {id: same, level: canonical, kind: drop, when: {syscall: b}}
""")
    with pytest.raises(RuleError, match=r"rule #2 \(same\): id 'same' already used by .*rule #1"):
        load_rules(path)


def test_socket_rule_after_a_canonical_one(tmp_path: Path) -> None:
    path = write(tmp_path, """
- {id: c, level: canonical, kind: drop, when: {syscall: a}}
- {id: s, level: socket, kind: mask_ports}
""")
    with pytest.raises(RuleError, match=r"rule #2 \(s\): a socket-level rule must come before"):
        load_rules(path)


def test_not_a_list_and_not_yaml(tmp_path: Path) -> None:
    with pytest.raises(RuleError, match="expected a list of rules"):
        load_rules(write(tmp_path, "rules: 3\n"))
    with pytest.raises(RuleError, match="not valid YAML"):
        load_rules(write(tmp_path, "- [unclosed\n"))
    with pytest.raises(RuleError, match="cannot read"):
        load_rules(tmp_path / "absent.yaml")


def test_own_syscall_table(tmp_path: Path) -> None:
    write(tmp_path, "syscalls: {fcntl: {is: [mine]}}\n", "table.yaml")
    path = write(tmp_path, """
syscalls: table.yaml
rules:
  - {id: r, level: canonical, kind: drop, when: {class: mine}}
""")
    rules = load_rules(path)
    assert rules.syscalls.in_class("fcntl", "mine")
    bad = write(tmp_path, "syscalls: nope.yaml\nrules: []\n", "bad.yaml")
    with pytest.raises(RuleError, match=r"bad\.yaml: syscall table: .*nope\.yaml: cannot read"):
        load_rules(bad)


def test_syscall_table_errors() -> None:
    with pytest.raises(SyscallTableError, match=r"t\.yaml: syscalls\.read\.is: expected a list"):
        parse_syscall_table({"syscalls": {"read": {"is": "recv_like"}}}, "t.yaml")
    with pytest.raises(SyscallTableError, match=r"syscalls\.read: unknown key 'alias'"):
        parse_syscall_table({"syscalls": {"read": {"alias": "recv"}}}, "t.yaml")
    with pytest.raises(SyscallTableError, match=r"syscalls\.read\.as: expected a name"):
        parse_syscall_table({"syscalls": {"read": {"as": ["recv"]}}}, "t.yaml")
