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

"""Writing new migration scripts safely: where, and what.

``revision`` writes a file that every later command imports. Three things
keep it from breaking or hijacking an installation:

* :func:`refuse_unsafe_location`: no script is written into an installed
  package (every user of that installation would see a new head) or into
  a directory the user cannot write;
* :func:`docstring_text`: the message goes into the script's docstring
  escaped, so that no message can end the docstring or add code;
* :func:`removing_new_scripts`: a script just written that does not load
  (it does not compile, or fails when imported) is removed and named.

A script found in versions/ that does not load is named by
scripts.broken_script, for the one error line every command then gives;
such a file is the user's and is never deleted.
"""

import contextlib
import csv
import os

from solum_db_manage import errors
from solum_db_manage.scripts import inside, load_failure

# Path components under which Python installs packages (pip, distros).
_INSTALL_DIRECTORIES = ("site-packages", "dist-packages")

_CHECKOUT_HINT = (
    "write revisions in a source checkout of solum-db-manage instead, "
    "installed with 'pip install -e .' run in its top directory")


def docstring_text(message):
    """``message`` as the text of a triple-quoted docstring.

    Evaluated, the literal gives back the message exactly. Backslashes and
    double quotes are escaped (so nothing can close the docstring), and
    every character that is not printable -- a carriage return, NUL, other
    control characters, line and paragraph separators, lone surrogates
    (bytes of argv that are not UTF-8) -- is written as its escape;
    newlines and tabs stay as they are, so that a message of several
    lines reads as several lines.
    """
    out = []
    for char in str(message):
        if char in "\\\"":
            out.append("\\" + char)
        elif char in "\n\t" or char.isprintable():
            out.append(char)
        elif ord(char) < 0x100:
            out.append(f"\\x{ord(char):02x}")
        elif ord(char) < 0x10000:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(f"\\U{ord(char):08x}")
    return "".join(out)


def skip_empty_revision(context, revision, directives):
    """Write no script when autogenerate finds no difference.

    Given to ``alembic.command.revision`` by the tool's ``revision``, not
    set in env.py: ``alembic check`` reads the directives this empties.
    """
    script = directives[0]
    if script.upgrade_ops is not None and script.upgrade_ops.is_empty():
        directives[:] = []


def _installed_by(directory):
    """The installed distribution whose RECORD lists a file of directory.

    pip writes ``NAME.dist-info/RECORD`` next to the packages it installs
    (not for an editable install, whose files stay in the checkout).
    """
    root = directory
    while True:
        parent = os.path.dirname(root)
        if parent == root:
            return None
        root = parent
        try:
            entries = os.listdir(root)
        except OSError:
            continue
        for entry in entries:
            record = os.path.join(root, entry, "RECORD")
            if not entry.endswith(".dist-info") or not os.path.isfile(
                    record):
                continue
            try:
                with open(record, newline="", encoding="utf-8") as lines:
                    for row in csv.reader(lines):
                        if row and inside(os.path.realpath(
                                os.path.join(root, row[0])), directory):
                            return entry
            except (OSError, UnicodeError, csv.Error):
                continue


def refuse_unsafe_location(scripts):
    """Raise unless a new script may be written into ``scripts``/versions.

    Refused: a directory inside an installed package (a site-packages or
    dist-packages directory, or one a dist-info RECORD lists), and one
    the user cannot write. Nothing is written either way.
    """
    real = os.path.realpath(scripts)
    versions = os.path.join(real, "versions")
    parts = real.split(os.sep)
    installed = next((part for part in _INSTALL_DIRECTORIES
                      if part in parts), None)
    if installed is None:
        installed = _installed_by(real)
    if installed is not None:
        raise errors.SolumDBManageError(
            f"revision refused, nothing was written: the migration scripts "
            f"in {versions} are part of an installed package ({installed}); "
            f"a script written there would be a new head, an 'upgrade "
            f"needed', for every user of this installation, and lost at "
            f"its next upgrade; {_CHECKOUT_HINT}")
    target = versions if os.path.isdir(versions) else real
    if not os.access(target, os.W_OK | os.X_OK):
        raise errors.SolumDBManageError(
            f"revision refused, nothing was written: {target} is not "
            f"writable by this user; run it as the owner of the checkout, "
            f"or {_CHECKOUT_HINT}")


def _scripts_in(versions):
    try:
        return {name for name in os.listdir(versions)
                if name.endswith(".py")}
    except OSError:
        return set()


@contextlib.contextmanager
def removing_new_scripts(scripts):
    """Remove the scripts written inside the block if it fails.

    A script that does not compile, or fails when Alembic imports it
    after writing it, would break every later command: it is removed
    (with its compiled file) and named in the error raised instead.
    """
    versions = os.path.join(scripts, "versions")
    before = _scripts_in(versions)
    try:
        yield
    except Exception as error:
        new = sorted(_scripts_in(versions) - before)
        if not new:
            raise
        for name in new:
            _remove_script(versions, name)
        paths = ", ".join(os.path.join(versions, name) for name in new)
        raise errors.SolumDBManageError(
            f"the new migration script {paths} {load_failure(error)}, so it "
            f"was removed: nothing was written (check script.py.mako and "
            f"what --autogenerate rendered)") from error


def _remove_script(versions, name):
    with contextlib.suppress(FileNotFoundError):
        os.remove(os.path.join(versions, name))
    cache = os.path.join(versions, "__pycache__")
    stem = name[:-len(".py")] + "."
    for compiled in _scripts_in_cache(cache):
        if compiled.startswith(stem):
            with contextlib.suppress(FileNotFoundError):
                os.remove(os.path.join(cache, compiled))


def _scripts_in_cache(cache):
    try:
        return os.listdir(cache)
    except OSError:
        return []
