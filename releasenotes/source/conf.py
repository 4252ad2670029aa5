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
"""Sphinx configuration of the release notes (tox -e releasenotes).

reno reads the notes from git history (releasenotes/notes/, committed).
"""

extensions = ["openstackdocstheme", "reno.sphinxext"]
html_theme = "openstackdocs"
openstackdocs_repo_name = "openstack/solum"
openstackdocs_bug_project = "solum"
openstackdocs_bug_tag = "solum-db-manage"
openstackdocs_auto_name = False

project = "solum-db-manage Release Notes"
copyright = "OpenStack Foundation"
# Release notes carry no version of their own.
version = release = ""

master_doc = "index"
exclude_patterns = []
pygments_style = "native"
