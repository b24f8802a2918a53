"""Imports every model module so that ``Base.metadata`` knows all tables (Alembic, tests)."""
from gateway.db import Base
from gateway.directory import models as directory_models  # noqa: F401
from gateway.draw import models as draw_models  # noqa: F401  (also the higher-level inspections)
from gateway.ledger import models as ledger_models  # noqa: F401
from gateway.planning import models as planning_models  # noqa: F401
from gateway.results import models as result_models  # noqa: F401
from gateway.security import audit as audit_models  # noqa: F401
from gateway.security import models as security_models  # noqa: F401
from gateway.sync import models as sync_models  # noqa: F401
from gateway.tasks import models as task_models  # noqa: F401

metadata = Base.metadata
