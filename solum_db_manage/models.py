"""Placeholder: the head schema's models are being written."""

from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass
