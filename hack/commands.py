#!/usr/bin/env python3
"""Finds every external command the project's scripts and tests run, and fails when one is neither part of a base
Debian 12 system nor installed by hack/setup.sh (hack/packages.txt). `hack/setup.sh --check` runs it, and so does CI.

Where it looks:
- Shell scripts (every file under hack/, bench/, .ci/ and bin/ that is *.sh or starts with a sh/bash shebang),
  parsed by shfmt into a syntax tree: the first word of every simple command, also behind wrappers (sudo, exec,
  env, timeout, xargs, ip netns exec, ...) and behind the scripts' own functions that run their arguments ("$@",
  "${@:2}"), and inside `bash -c`/`sh -c` strings. `need TOOL...` (hack/lib.sh) counts as running each TOOL.
- Python (bench/*.py, hack/*.py): subprocess calls whose command is a list written out, or a name bound to one.
- Java (src/): tests start processes only through dev.jumpgate.testing.HostCommand, which names each command in a
  `new HostCommand("...")`; a ProcessBuilder anywhere else is an error, since this check could not see it.
A command made of variables ("$BIN/kubectl", "$helm", KUBECTL) is one the project builds itself: not checked.

A command is base when it resolves, on this machine, to a file that a package of Priority "required" owns (what a
minimal Debian 12 system has). Anything else must be listed in hack/packages.txt, and a listed package that is
installed must really bring the command. A listed command that nothing runs is an error too: the list stays true.

  hack/commands.py [--root DIR] [--packages FILE] [--list]   (--list: each command found, where, and its verdict)
"""
import argparse
import ast
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHELL_DIRS = ["hack", "bench", ".ci", "bin"]
PYTHON_GLOBS = ["bench/*.py", "hack/*.py"]
BIN_DIRS = ("/bin/", "/sbin/", "/usr/bin/", "/usr/sbin/", "/usr/local/bin/", "/usr/local/sbin/")
# Wrappers that run their arguments as a command: how many leading words (after options) are theirs.
WRAPPERS = {"sudo": 0, "exec": 0, "command": 0, "nohup": 0, "setsid": 0, "nice": 0, "env": 0, "xargs": 0,
            "timeout": 1, "chroot": 1, "flock": 1}
# Options of those wrappers that take a value.
OPTIONS_WITH_VALUE = {"-u", "-g", "-n", "-I", "-s", "-k", "-P", "-L", "-d", "--signal"}


class Found:
    """One command, and where the project runs it."""

    def __init__(self):
        self.places = {}

    def add(self, command, place):
        if command and EXPANSION not in command:  # built from a variable inside a `bash -c` string
            self.places.setdefault(command, []).append(place)


# ------------------------------------------------------------------------------------------------ shell scripts

def shell_scripts():
    for top in SHELL_DIRS:
        for path in sorted((ROOT / top).rglob("*")):
            if not path.is_file():
                continue
            if path.suffix == ".sh":
                yield path
                continue
            try:
                with path.open("rb") as file:
                    first = file.readline()
            except OSError:
                continue
            if first.startswith(b"#!") and re.search(rb"\b(ba)?sh\b", first):
                yield path


def parse_shell(text, name):
    out = subprocess.run(["shfmt", "--tojson", "-ln", "bash", "--filename", name], input=text, capture_output=True,
                         text=True)
    if out.returncode != 0:
        raise SystemExit(f"commands: shfmt cannot parse {name}: {out.stderr.strip()}")
    return json.loads(out.stdout)


EXPANSION = "__expansion__"


def word_text(word, expansion=None):
    """The text of a word, quoted or not. An expansion in it ($x, $(...)) makes it None, or, given `expansion`, is
    replaced by that marker (enough to parse a `bash -c` string)."""
    text = ""
    for part in word.get("Parts", []):
        kind = part.get("Type")
        if kind in ("Lit", "SglQuoted"):
            text += part.get("Value", "")
        elif kind == "DblQuoted":
            inner = word_text(part, expansion)
            if inner is None:
                return None
            text += inner
        elif expansion is None:
            return None
        else:
            text += expansion
    return text


def literal(word):
    """The text of a word made only of literal parts, else None."""
    return word_text(word)


def runs_arguments(word):
    """How many of a function's arguments come before the command it runs: "$@" -> 0, "${@:3}" -> 2; else None."""
    parts = word.get("Parts", [])
    if len(parts) == 1 and parts[0].get("Type") == "DblQuoted":
        parts = parts[0].get("Parts", [])
    if len(parts) != 1 or parts[0].get("Type") != "ParamExp" or parts[0].get("Param", {}).get("Value") != "@":
        return None
    offset = parts[0].get("Slice", {}).get("Offset")
    if offset is None:
        return 0
    value = literal(offset)
    return int(value) - 1 if value and value.isdigit() else None


def walk(node, visit):
    if isinstance(node, dict):
        visit(node)
        for value in node.values():
            walk(value, visit)
    elif isinstance(node, list):
        for value in node:
            walk(value, visit)


def command_word(args, functions, wrappers, seen=lambda name: None):
    """The index in a simple command's words of the command it runs in the end, through wrappers (sudo, timeout,
    ip netns exec, the scripts' own functions that run their arguments); `seen` is told each wrapper on the way.
    None when the command is a function of the scripts, `need`, a `bash -c` string (handled by the caller) or
    a word made of variables."""
    i = 0
    while i < len(args):
        name = literal(args[i])
        if name is None:
            return i  # the caller decides what a variable command means
        if name == "ip" and [literal(a) for a in args[i + 1:i + 3]] == ["netns", "exec"]:
            seen("ip")
            i += 4
        elif name in functions and name in wrappers:
            i += 1 + wrappers[name]
        elif name in WRAPPERS:
            seen(name)
            if name == "command" and i + 1 < len(args) and literal(args[i + 1]) in ("-v", "-V"):
                return None  # a look-up; what it looks up is run later, or named by need
            i += 1
            while i < len(args):  # options, and VAR=value for env
                word = literal(args[i])
                if word is None or not (word.startswith("-") or (name == "env" and "=" in word)):
                    break
                i += 2 if word in OPTIONS_WITH_VALUE else 1
            i += WRAPPERS[name]
        else:
            return i
    return None


def function_wrappers(trees, functions):
    """The scripts' functions that run their arguments as a command: name -> arguments before the command."""
    wrappers = {}
    for tree in trees:
        for stmt in tree.get("Stmts", []):
            cmd = stmt.get("Cmd", {})
            if cmd.get("Type") != "FuncDecl":
                continue
            shifted, runs = 0, []

            def visit(node):
                nonlocal shifted
                if node.get("Type") != "CallExpr" or not node.get("Args"):
                    return
                args = node["Args"]
                if literal(args[0]) == "shift":
                    count = literal(args[1]) if len(args) > 1 else "1"
                    shifted += int(count) if count and count.isdigit() else 1
                    return
                i = command_word(args, functions, wrappers)
                skip = runs_arguments(args[i]) if i is not None else None
                if skip is not None:
                    runs.append(skip + shifted)

            walk(cmd.get("Body"), visit)
            if runs:
                wrappers[cmd["Name"]["Value"]] = runs[0]
    return wrappers


def shell_commands(paths, found):
    """Every command the shell scripts run. The functions of all of them count as known everywhere: hack/lib.sh's
    are sourced by the others, and lib.sh calls on_failure where a script defines it."""
    trees = {path: parse_shell(path.read_text(), str(path.relative_to(ROOT))) for path in paths}
    functions = set()
    for tree in trees.values():
        walk(tree, lambda n: functions.add(n["Name"]["Value"]) if n.get("Type") == "FuncDecl" else None)
    wrappers = function_wrappers(trees.values(), functions)

    def run_string(word, place):
        """The commands of a string that a shell will run (`bash -c STRING`)."""
        inner = parse_shell(word_text(word, EXPANSION), place)
        walk(inner, lambda n: record(n["Args"], place) if n.get("Type") == "CallExpr" and n.get("Args") else None)

    def record(args, place):
        i = command_word(args, functions, wrappers, lambda name: found.add(name, place))
        if i is None:
            return
        name = literal(args[i])
        if name == "need":
            for arg in args[i + 1:]:
                found.add(literal(arg), place)
        elif name in ("bash", "sh") and i + 2 < len(args) and literal(args[i + 1]) == "-c":
            found.add(name, place)
            run_string(args[i + 2], place)
        elif name == "together":  # hack/lib.sh: together TITLE COMMAND [TITLE COMMAND ...]
            for command in args[i + 2::2]:
                run_string(command, place)
        elif name is not None and name not in functions:
            found.add(name, place)

    for path, tree in trees.items():
        rel = path.relative_to(ROOT)
        walk(tree, lambda n: record(n["Args"], f"{rel}:{n.get('Pos', {}).get('Line', 0)}")
             if n.get("Type") == "CallExpr" and n.get("Args") else None)


# ------------------------------------------------------------------------------------------------ Python

def python_commands(path, found):
    rel = path.relative_to(ROOT)
    tree = ast.parse(path.read_text(), str(rel))
    lists = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, (ast.List, ast.Tuple)):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    lists[target.id] = node.value
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "subprocess" and node.args):
            continue
        command = node.args[0]
        if isinstance(command, ast.Name) and command.id in lists:
            command = lists[command.id]
        if isinstance(command, (ast.List, ast.Tuple)) and command.elts:
            first = command.elts[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.add(first.value, f"{rel}:{node.lineno}")


# ------------------------------------------------------------------------------------------------ Java

def java_commands(found, problems):
    for path in sorted((ROOT / "src").rglob("*.java")):
        rel = path.relative_to(ROOT)
        # Comments out, lines kept: a javadoc that shows `new HostCommand("...")` names no command.
        text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), path.read_text(), flags=re.S)
        for match in re.finditer(r'new\s+HostCommand\(\s*"([^"]+)"', text):
            found.add(match.group(1), f"{rel}:{text.count(chr(10), 0, match.start()) + 1}")
        if path.name != "HostCommand.java":
            for match in re.finditer(r"new\s+ProcessBuilder\b|Runtime\.getRuntime\(\)\.exec", text):
                line = text.count("\n", 0, match.start()) + 1
                problems.append(f"{rel}:{line}: starts a process itself; use dev.jumpgate.testing.HostCommand, "
                                "so that this check sees the command")


# ------------------------------------------------------------------------------------------------ verdicts

def normalized(command):
    """A command in a bin directory by its name (sshd for /usr/sbin/sshd); other paths as they are."""
    if command.startswith("/") and any(command.startswith(d) and "/" not in command[len(d):] for d in BIN_DIRS):
        return command.rsplit("/", 1)[1]
    return command


def read_packages(path):
    table = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].split()
        if len(line) >= 2:
            table[normalized(line[0])] = line[1:]
    return table


class Dpkg:
    """What dpkg knows of this machine, read once: each installed package's fields and files, each file's owner."""

    def __init__(self):
        out = subprocess.run(["dpkg-query", "-W", "-f",
                              "${Package}\t${Status}\t${Priority}\t${Essential}\t${Pre-Depends}, ${Depends}\n"],
                             capture_output=True, text=True, check=True).stdout
        self.fields = {}
        for line in out.splitlines():
            name, status, priority, essential, depends = line.split("\t")
            if status.endswith("installed") and "not-installed" not in status:
                self.fields[name] = (priority, essential,
                                     {d.split()[0].split(":")[0] for d in re.split(r"[,|]", depends) if d.strip()})
        self.owners, self.files = {}, {}
        for listing in Path("/var/lib/dpkg/info").glob("*.list"):
            package = listing.stem.split(":")[0]
            for path in listing.read_text(errors="replace").splitlines():
                self.owners.setdefault(path, package)
                self.files.setdefault(package, set()).add(normalized(path))

    def installed(self, package):
        return package in self.fields

    def priority(self, package):
        return self.fields[package][0] if package in self.fields else ""

    def essential(self, package):
        return package in self.fields and self.fields[package][1] == "yes"

    def depends(self, package):
        return self.fields[package][2] if package in self.fields else set()

    def owner_of(self, command):
        """(the file a command runs on this machine, the package that owns it), each None where there is none."""
        path = resolve(command)
        if not path:
            return None, None
        candidates = [path, os.path.realpath(path)]
        for d in BIN_DIRS:  # usr-merge: dpkg may know /bin/x as /usr/bin/x or the other way round
            candidates.append(d + os.path.basename(path))
        for candidate in candidates:
            if candidate in self.owners:
                return path, self.owners[candidate]
        return path, None


def resolve(command):
    """The file a command runs, on this machine, or None."""
    if command.startswith("/"):
        return command if os.path.exists(command) else None
    return shutil.which(command)


def bash_builtins():
    out = subprocess.run(["bash", "-c", "compgen -b; compgen -k"], capture_output=True, text=True)
    return set(out.stdout.split())


def verdicts(found, packages, builtins, dpkg):
    """(command, verdict, ok) for every command found."""
    results = []
    for command in sorted(found.places):
        name = normalized(command)
        if command in builtins:
            results.append((command, "shell builtin", True))
        elif not command.startswith("/") and "/" in command:
            own = (ROOT / command).exists()
            results.append((command, "the project's own" if own else "a path in the project that does not exist", own))
        elif packages.get(name) == ["prerequisite"]:
            results.append((command, "prerequisite (README.md)", True))
        elif name in packages:
            wanted = packages[name]
            bringers = [p for p in wanted if dpkg.installed(p)]
            # The package brings the command itself, or through a package it depends on (python3-minimal).
            brought = any(name in dpkg.files.get(p, ()) for p in bringers) or (
                bringers and dpkg.owner_of(command)[1] in set(bringers).union(*(dpkg.depends(p) for p in bringers)))
            if bringers and not brought:
                results.append((command, f"hack/packages.txt names {' '.join(wanted)}, whose files have no {name}", False))
            else:
                results.append((command, f"hack/setup.sh installs {' '.join(wanted)}", True))
        else:
            path, owner = dpkg.owner_of(command)
            priority = dpkg.priority(owner) if owner else ""
            if owner and (priority == "required" or dpkg.essential(owner)):
                results.append((command, f"base ({owner}, {priority or 'essential'})", True))
            elif owner:
                results.append((command, f"from {owner} (Priority {priority}), not base: add it to hack/packages.txt", False))
            elif path:
                results.append((command, f"{path} belongs to no Debian package: add its package to hack/packages.txt", False))
            else:
                results.append((command, "not on this machine and not in hack/packages.txt: add its Debian package there",
                                False))
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="the project to check (default: this one)")
    parser.add_argument("--packages", type=Path, help="default: ROOT/hack/packages.txt")
    parser.add_argument("--list", action="store_true")
    args = parser.parse_args(argv)
    return check(args.root.resolve(), args.packages or args.root / "hack" / "packages.txt", args.list)


def check(root, packages_file, list_all=False):
    global ROOT
    ROOT = root

    found, problems = Found(), []
    shell_commands(list(shell_scripts()), found)
    for pattern in PYTHON_GLOBS:
        for path in sorted(ROOT.glob(pattern)):
            python_commands(path, found)
    java_commands(found, problems)

    packages = read_packages(packages_file)
    results = verdicts(found, packages, bash_builtins(), Dpkg())
    for command, verdict, ok in results:
        if list_all or not ok:
            where = ", ".join(found.places[command][:3]) + (" ..." if len(found.places[command]) > 3 else "")
            print(f"{'ok  ' if ok else 'FAIL'} {command:28} {verdict}   [{where}]")
        if not ok:
            problems.append(f"{command}: {verdict}")
    run = {normalized(c) for c in found.places}
    for name in sorted(set(packages) - run):
        problems.append(f"{name}: listed in hack/packages.txt, but no script or test runs it")
        print(f"FAIL {name:28} listed in hack/packages.txt, but no script or test runs it")
    for problem in problems:
        if "HostCommand" in problem:
            print(f"FAIL {problem}")
    ok = sum(1 for _, _, good in results if good)
    print(f"commands: {len(found.places)} external commands found in the scripts and tests; "
          f"{ok} base, prerequisite, the project's own or installed by hack/setup.sh; {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
