"""What each subcommand does, from its parsed arguments (harness/cli.py builds them).

Exit status of compare and verify: 0 when every sample that ran matches the reference, 1 when
one differs, its run failed or its build failed, 2 on a harness error (a broken manifest, rule
or trace file), 130 (128 + the signal) when interrupted. Errors the user can act on are
HarnessErrors, reported by the command line in one line.

Imports stay inside the commands: `trace` must start without the compare stack. `trace` is
harness/commands_trace.py, `compare` and `verify` harness/commands_matrix.py: the functions of
the same names here hand them their arguments.
"""

from __future__ import annotations

import argparse
import signal

from harness.common.errors import HarnessError, Interrupted


class BadArguments(HarnessError):
    """Arguments that name nothing usable (no command, an unwritable trace file)."""


class _stoppable:
    """Ctrl-C, SIGTERM and SIGHUP (and, with --exit-with-parent, the end of the parent) stop
    the command as Interrupted, exit status 128 + the signal. What the command is doing is
    the list's last item, for the message ("building the samples", "running the pairs").
    (A class, not contextlib's decorator: `harness trace` imports this module, and its start
    is what a traced command waits for.)"""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.doing = ["starting"]

    def __enter__(self) -> list[str]:
        from harness.run.stopping import install_stop_handlers, parent_death_signal

        install_stop_handlers()
        if getattr(self.args, "exit_with_parent", False):
            parent_death_signal(signal.SIGTERM)
        return self.doing

    def __exit__(self, kind: type | None, error: BaseException | None, tb: object) -> None:
        from harness.run.stopping import Terminated

        if isinstance(error, KeyboardInterrupt):
            raise Interrupted(f"interrupted while {self.doing[-1]}") from None
        if isinstance(error, Terminated):
            raise Interrupted(f"stopped by {signal.Signals(error.signum).name} while "
                              f"{self.doing[-1]}", 128 + error.signum) from None


# -- trace ------------------------------------------------------------------------------------

def cmd_trace(args: argparse.Namespace) -> int:
    from harness.commands_trace import cmd_trace

    return cmd_trace(args)


# -- compare and verify ---------------------------------------------------------------------

def cmd_compare(args: argparse.Namespace) -> int:
    from harness.commands_matrix import cmd_compare

    return cmd_compare(args)


def cmd_verify(args: argparse.Namespace) -> int:
    from harness.commands_matrix import cmd_verify

    return cmd_verify(args)


# -- diff -------------------------------------------------------------------------------------

def cmd_diff(args: argparse.Namespace) -> int:
    from harness.diff import main

    with _stoppable(args):
        return main(args)


# -- new --------------------------------------------------------------------------------------

def cmd_new(args: argparse.Namespace) -> int:
    from pathlib import Path

    from harness.tools.scaffold import languages, new_sample, wrap_program

    if args.list:
        print("languages with a template: " + ", ".join(languages()))
        return 0
    if not args.name or not args.language:
        raise BadArguments("usage: harness new NAME --language LANG (languages: "
                           f"{', '.join(languages())}, or any other for a manifest alone)")
    if args.from_program:
        if args.role == "both":
            raise BadArguments("harness new --from wraps one program: --role server or "
                               "--role client")
        made = wrap_program(Path(args.samples), args.name, args.language,
                            Path(args.from_program), args.role, args.scenario)
        print(f"made {made.folders[0]}/ with {made.programs[0].name}, copied unchanged")
        print(f"it runs with no arguments: read {made.folders[0]}/manifest.yaml, and give it "
              "{host} {port} {message} there if it takes them")
    else:
        roles = ("server", "client") if args.role in (None, "both") else (args.role,)
        made = new_sample(Path(args.samples), args.name, args.language, roles, args.scenario)
        for folder in made.folders:
            print(f"made {folder}/")
        if made.known:
            print("fill in the TODOs of:")
            for path in made.programs:
                print(f"  {path}")
        else:
            print(f"no template for {args.language!r} (templates: {', '.join(languages())}): "
                  f"write the programs and fill in the manifests' requires, build and run")
    asked = list(dict.fromkeys(args.scenario or ["tcp"]))
    only = f" SCENARIO={asked[0]}" if len(asked) == 1 else ""
    print(f"then: make verify SAMPLE={args.name}{only}")
    return 0


# -- bench ------------------------------------------------------------------------------------

def cmd_bench(args: argparse.Namespace) -> int:
    from harness.tools import bench

    return bench.main(runs=args.runs, n=args.n, cpu=args.cpu, mem_n=tuple(args.mem_n),
                      matrix=args.matrix, from_n=args.from_n)
