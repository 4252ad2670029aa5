"""Database migrations for OpenStack Solum."""
