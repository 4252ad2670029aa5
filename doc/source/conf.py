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
"""Sphinx configuration: HTML docs and the solum-db-manage(1) man page.

Built by ``tox -e docs`` with warnings as errors.
"""

import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from solum_db_manage import __version__  # noqa: E402

project = "solum-db-manage"
copyright = "OpenStack Foundation"
version = release = __version__

extensions = ["openstackdocstheme"]
html_theme = "openstackdocs"
openstackdocs_repo_name = "openstack/solum"
openstackdocs_bug_project = "solum"
openstackdocs_bug_tag = "solum-db-manage"
openstackdocs_auto_name = False
# The version is the package's (__version__), not one pbr derives from git.
openstackdocs_auto_version = False
# No PDF build (tox -e docs builds HTML and the man page only).
openstackdocs_pdf_link = False

master_doc = "index"
exclude_patterns = ["_build"]
pygments_style = "native"

# (source start file, name, description, authors, manual section).
man_pages = [
    ("man/solum-db-manage", "solum-db-manage",
     "create and migrate the database of OpenStack Solum",
     ["OpenStack"], 1),
]
