# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.

"""The Apache-2.0 header on every source file (tools/license-headers)."""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOOL = ROOT / "tools" / "license-headers"
FIRST_LINE = ('# Licensed under the Apache License, Version 2.0 (the '
              '"License"); you may\n')


def header_of_this_file():
    """The header as tools/license-headers writes it (this file's)."""
    text = Path(__file__).read_text()
    end = "under the License.\n"
    return text[:text.index(end) + len(end)]


def license_headers(*args, cwd=ROOT):
    return subprocess.run([sys.executable, str(TOOL), *args], cwd=cwd,
                          capture_output=True, text=True, timeout=60)


def test_every_source_file_carries_the_license_header():
    process = license_headers("--check", "solum_db_manage", "tests",
                              "benchmarks", "tools")
    assert (process.returncode, process.stdout, process.stderr) == (
        0, "", ""), "run tools/license-headers --fix:\n" + process.stdout


def test_fix_puts_the_header_after_shebang_and_coding_before_docstring(
        tmp_path):
    script = tmp_path / "script.py"
    script.write_text('#!/usr/bin/env python3\n# -*- coding: utf-8 -*-\n'
                      '"""Do a thing."""\n\nprint("thing")\n')
    module = tmp_path / "module.py"
    module.write_text('"""A module."""\n')
    shell = tmp_path / "run"
    shell.write_text("#!/bin/sh\n# Runs it.\nexit 0\n")
    shell.chmod(0o755)
    (tmp_path / "__init__.py").write_text("")
    (tmp_path / "data.txt").write_text("not a source file\n")

    check = license_headers("--check", ".", cwd=tmp_path)
    assert check.returncode == 1
    assert check.stdout.splitlines() == [
        "no header: ./module.py", "no header: ./run",
        "no header: ./script.py"]

    assert license_headers("--fix", ".", cwd=tmp_path).returncode == 0
    lines = script.read_text().splitlines(keepends=True)
    assert lines[:3] == ["#!/usr/bin/env python3\n",
                         "# -*- coding: utf-8 -*-\n", FIRST_LINE]
    assert lines[13:] == ["\n", '"""Do a thing."""\n', "\n",
                          'print("thing")\n']
    assert ast.get_docstring(ast.parse(script.read_text())) == "Do a thing."
    assert module.read_text().startswith(FIRST_LINE)
    assert module.read_text().endswith('under the License.\n\n'
                                       '"""A module."""\n')
    assert shell.read_text().startswith("#!/bin/sh\n" + FIRST_LINE)
    assert shell.read_text().endswith("\n\n# Runs it.\nexit 0\n")
    assert shell.stat().st_mode & 0o777 == 0o755
    assert (tmp_path / "__init__.py").read_text() == ""
    assert (tmp_path / "data.txt").read_text() == "not a source file\n"

    fixed = {path: path.read_text() for path in (script, module, shell)}
    again = license_headers("--fix", ".", cwd=tmp_path)
    assert (again.returncode, again.stdout) == (0, "")
    assert {path: path.read_text() for path in fixed} == fixed
    assert license_headers("--check", ".", cwd=tmp_path).returncode == 0


def test_a_copyright_line_and_the_indented_form_pass(tmp_path):
    """OpenStack's other spelling: a Copyright line, then the header
    indented four spaces."""
    (tmp_path / "indented.py").write_text(
        "# Copyright 2014 Rackspace\n#\n" + "".join(
            "#    " + line[2:] if line.strip() != "#" else line
            for line in header_of_this_file().splitlines(keepends=True))
        + "\nimport os\n")
    check = license_headers("--check", ".", cwd=tmp_path)
    assert (check.returncode, check.stdout) == (0, "")
    (tmp_path / "other.py").write_text("# Licensed under the MIT License\n")
    check = license_headers("--check", ".", cwd=tmp_path)
    assert (check.returncode, check.stdout) == (1, "no header: ./other.py\n")
