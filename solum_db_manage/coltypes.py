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

"""Solum's serialised-value column types, and the DDL type migrations use.

``YAMLEncodedDict(n)`` and ``JSONEncodedDict(n)`` store any value PyYAML or
the json module can represent (mappings, lists, scalars, ``{}``, ``[]``) in
a TEXT column; None is NULL. Solum declared them as TEXT(n), which MySQL
turns into the smallest TEXT type holding n characters and PostgreSQL
rejects; :func:`text` gives migrations that DDL type, and the decorators
report to each dialect the type its database holds (on MySQL, the TEXT(n)
the server sizes by charset; compare.compare_type compares it), so that
models compare clean against a migrated database.
"""

import functools
import json

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator


def text(length=None):
    """The DDL type of a YAML/JSON column: TEXT(n), plain TEXT on PostgreSQL.

    For migrations, which keep the original's TEXT(n) where the database
    accepts it (MySQL picks the TEXT size from it; SQLite keeps it).
    """
    return sa.Text(length).with_variant(sa.Text(), "postgresql")


class EncodedText(TypeDecorator):
    """A value serialised into TEXT(length)."""

    impl = sa.Text
    cache_ok = True

    def __init__(self, length=None):
        super().__init__(length)
        self.length = length

    def load_dialect_impl(self, dialect):
        # Return type instances, not dialect.type_descriptor(...): with
        # psycopg 3 the latter compiles Text as VARCHAR.
        if dialect.name == "postgresql":
            return sa.Text()
        # The chain's DDL is TEXT(n) (:func:`text`; the fast path too,
        # tables.create_statements): the server picks the TEXT type that
        # holds n characters of the table's charset (TEXT(65535) is
        # MEDIUMTEXT in utf8 and utf8mb4, TEXT in latin1). The models say
        # what it is in utf8 and utf8mb4, Solum's charsets, so that
        # Alembic's own comparison (oslo.db's ModelsMigrationsSync) finds
        # nothing there; the tool's compares by charset
        # (compare.compare_type).
        if dialect.name == "mysql" and (self.length or 0) * 3 > 65535:
            from sqlalchemy.dialects.mysql import MEDIUMTEXT

            return MEDIUMTEXT()
        return sa.Text(self.length)

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return self.dumps(value)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return self.loads(value)

    def dumps(self, value):
        raise NotImplementedError

    def loads(self, text):
        raise NotImplementedError


class YAMLEncodedDict(EncodedText):
    """Any YAML-representable value, stored as block-style YAML."""

    cache_ok = True  # SQLAlchemy reads it from each class itself

    def dumps(self, value):
        return yaml_dump(value)

    def loads(self, text):
        return yaml_load(text)


class JSONEncodedDict(EncodedText):
    """Any JSON-representable value, stored as JSON."""

    cache_ok = True

    def dumps(self, value):
        return json.dumps(value)

    def loads(self, text):
        return json.loads(text)


@functools.cache
def _yaml():
    """(yaml, Dumper, Loader), imported on first use: the schema needs no
    YAML, only values do, and PyYAML costs ~10 ms to import."""
    import yaml

    try:  # the C implementation where PyYAML was built with libyaml
        return yaml, yaml.CSafeDumper, yaml.CSafeLoader
    except AttributeError:  # pragma: no cover - depends on the PyYAML build
        return yaml, yaml.SafeDumper, yaml.SafeLoader


def yaml_dump(value):
    """Serialise as Solum did: safe dumper, block style, sorted keys."""
    yaml, dumper, _ = _yaml()
    return yaml.dump(value, Dumper=dumper, default_flow_style=False,
                     sort_keys=True)


def yaml_load(text):
    """Parse what :func:`yaml_dump` wrote (or any YAML) safely."""
    yaml, _, loader = _yaml()
    return yaml.load(text, Loader=loader)
