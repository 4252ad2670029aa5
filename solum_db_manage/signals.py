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

"""SIGTERM handled as SIGINT is: deployment tools and systemd send it.

While a command runs, SIGTERM raises :class:`errors.Terminated` (a
KeyboardInterrupt) in the main thread, so it stops at the same boundary
Ctrl-C does: the transaction in progress is rolled back, the migration lock
records the run as stopped, and ``main()`` prints one ``ERROR:`` line and
exits 143 (128 + SIGTERM). A second SIGTERM while that cleanup runs is
ignored; SIGKILL (systemd's next step) still ends the process.
"""

import signal

from solum_db_manage import errors


def _terminate(signum, frame):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise errors.Terminated("terminated (SIGTERM)")


def handle_sigterm():
    """Install the handler; return a function that restores the old one.

    Outside the main thread (signals cannot be set there) nothing changes.
    """
    try:
        previous = signal.signal(signal.SIGTERM, _terminate)
    except ValueError:
        return lambda: None

    def restore():
        signal.signal(signal.SIGTERM, previous)

    return restore
