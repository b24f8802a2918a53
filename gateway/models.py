"""Imports every model module so that ``Base.metadata`` knows all tables (Alembic, tests)."""
from gateway.db import Base
from gateway.directory import models as directory_models  # noqa: F401

metadata = Base.metadata
