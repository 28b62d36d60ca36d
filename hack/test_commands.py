"""The set-up check (hack/commands.py) on small projects made for each test, and on this one with a line taken out of
hack/packages.txt. Run by hack/test.sh: python3 -m unittest discover -s hack -p 'test_*.py'."""
import contextlib
import io
import shutil
import tempfile
import textwrap
import unittest
from pathlib import Path

import commands

ROOT = Path(__file__).resolve().parent.parent


def run_check(root, packages_file=None):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = commands.check(root, packages_file or root / "hack" / "packages.txt")
    return status, out.getvalue()


class ProjectChecks(unittest.TestCase):

    def setUp(self):
        self.root = Path(tempfile.mkdtemp(prefix="jumpgate-commands-"))
        self.addCleanup(shutil.rmtree, self.root)
        (self.root / "hack").mkdir()

    def write(self, path, text):
        file = self.root / path
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(textwrap.dedent(text))

    def packages(self, *lines):
        self.write("hack/packages.txt", "\n".join(lines) + "\n")

    def failures(self):
        status, output = run_check(self.root)
        return status, [line for line in output.splitlines() if line.startswith("FAIL")]

    def test_a_command_that_is_neither_base_nor_listed_fails_with_its_place(self):
        self.write("hack/up.sh", """\
            #!/usr/bin/env bash
            mkdir -p /tmp/x
            containerd --config x.toml
            """)
        self.packages()
        status, failures = self.failures()
        self.assertEqual(1, status)
        self.assertEqual(1, len(failures), failures)
        self.assertIn("containerd", failures[0])
        self.assertIn("hack/up.sh:3", failures[0])

    def test_base_commands_and_listed_ones_pass(self):
        self.write("hack/up.sh", """\
            #!/usr/bin/env bash
            mkdir -p /tmp/x && sed -n 1p /etc/hostname | sort
            containerd --config x.toml
            """)
        self.packages("containerd  containerd")
        self.assertEqual((0, []), self.failures())

    def test_commands_behind_wrappers_functions_and_bash_c_are_found(self):
        self.write("hack/up.sh", """\
            #!/usr/bin/env bash
            ns() { ip netns exec "jg-$1" "${@:2}"; }
            start() { local name=$1; shift; "$@" > "$name.log" & }
            ns lab frob-in-namespace --flag
            start daemon frob-started
            sudo -E timeout 3 frob-behind-sudo
            echo x | xargs -r frob-behind-xargs
            bash -c "frob-in-string | grep x"
            need frob-needed /usr/lib/frob/plugin
            x=$(frob-in-substitution)
            together "a title" "frob-together --x" "another" "frob-together-too > /dev/null"
            """)
        self.packages("ip  iproute2")
        status, failures = self.failures()
        found = " ".join(failures)
        for name in ["frob-in-namespace", "frob-started", "sudo", "frob-behind-sudo", "frob-behind-xargs",
                     "frob-in-string", "frob-needed", "/usr/lib/frob/plugin", "frob-in-substitution",
                     "frob-together", "frob-together-too"]:
            self.assertIn(name, found)
        self.assertNotIn(" ns ", found)  # the script's own function
        self.assertNotIn(" daemon ", found)  # an argument of the function, not the command it runs

    def test_python_subprocess_commands_are_found(self):
        self.write("bench/b.py", """\
            import subprocess
            subprocess.run(["frob-listed", "-x"])
            args = ["frob-in-a-name", "-y"]
            subprocess.Popen(args)
            """)
        self.packages()
        status, failures = self.failures()
        self.assertIn("frob-listed", " ".join(failures))
        self.assertIn("frob-in-a-name", " ".join(failures))

    def test_java_processes_outside_host_command_are_refused(self):
        self.write("src/test/java/x/HostCommand.java",
                   'class HostCommand { static final HostCommand X = new HostCommand("frob-java"); }\n')
        self.write("src/test/java/x/SneakyTest.java", 'class SneakyTest { Object p = new ProcessBuilder("ls"); }\n')
        self.packages()
        status, failures = self.failures()
        self.assertIn("frob-java", " ".join(failures))
        self.assertTrue(any("SneakyTest.java:1" in f and "HostCommand" in f for f in failures), failures)

    def test_a_listed_command_nothing_runs_fails(self):
        self.write("hack/up.sh", "#!/bin/sh\ntrue\n")
        self.packages("containerd  containerd")
        status, failures = self.failures()
        self.assertEqual(1, status)
        self.assertIn("no script or test runs it", failures[0])

    def test_a_listed_package_that_does_not_bring_the_command_fails(self):
        self.write("hack/up.sh", "#!/bin/sh\nsed -n 1p x\n")
        self.packages("sed  coreutils")  # installed here, but sed comes from the sed package
        status, failures = self.failures()
        self.assertEqual(1, status)
        self.assertIn("whose files have no sed", failures[0])


class ThisProject(unittest.TestCase):

    def test_this_project_passes(self):
        status, output = run_check(ROOT)
        self.assertEqual(0, status, output)

    def test_without_containerd_in_the_list_the_check_fails_on_the_cluster_script(self):
        # What the project looked like before hack/packages.txt named containerd: the cluster could not start on a
        # fresh machine, and this check must say so.
        with tempfile.TemporaryDirectory() as tmp:
            packages = Path(tmp) / "packages.txt"
            packages.write_text("".join(line for line in (ROOT / "hack" / "packages.txt").read_text().splitlines(True)
                                        if not line.startswith("containerd ")))
            status, output = run_check(ROOT, packages)
        self.assertEqual(1, status)
        self.assertRegex(output, r"FAIL containerd .*\[hack/cluster.sh:\d+")


if __name__ == "__main__":
    unittest.main()
