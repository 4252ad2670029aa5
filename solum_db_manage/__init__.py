"""Database migrations for OpenStack Solum."""

# The one place the version is written: setup.cfg reads it (attr:), and
# --version prints it without importlib.metadata's cost at every start.
__version__ = "1.0.0"
