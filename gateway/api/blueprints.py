"""Every blueprint of the API, registered in one place."""
from __future__ import annotations

from flask_smorest import Api

from gateway.api.plugins import blp as plugins_blp
from gateway.codes.api import codes_blp
from gateway.directory.api import conflicts_blp, eligibility_blp, imports_blp, inspectors_blp, targets_blp
from gateway.draw.api import draws_blp
from gateway.enterprise.api import notices_blp, portal_blp, ratings_blp, statements_blp
from gateway.higher_level.api import higher_level_blp
from gateway.ledger.api import annual_blp, ledger_blp
from gateway.ledger.visits_api import visits_blp
from gateway.planning.api import plans_blp
from gateway.results.api import results_blp
from gateway.results.field_api import field_blp
from gateway.results.public_api import public_blp
from gateway.results.stats_api import stats_blp
from gateway.security.api import accounts_blp, audit_blp, auth_blp, tokens_blp
from gateway.sync.api import sync_blp
from gateway.tasks.api import reassignments_blp, tasks_blp


def register_blueprints(api: Api) -> None:

    for blp in (plugins_blp, auth_blp, audit_blp, accounts_blp, tokens_blp, inspectors_blp, targets_blp,
                eligibility_blp, conflicts_blp, imports_blp, results_blp, field_blp, stats_blp, public_blp):
        api.register_blueprint(blp, url_prefix="/api/v1" + blp.url_prefix)

    # Plans, draws, tasks and reassignments, higher-level inspections (issue 3).

    for blp in (plans_blp, draws_blp, tasks_blp, reassignments_blp, higher_level_blp):
        api.register_blueprint(blp, url_prefix="/api/v1" + blp.url_prefix)

    # Platform sync: status, dead letters, resend (issue 6).

    api.register_blueprint(sync_blp, url_prefix="/api/v1" + sync_blp.url_prefix)

    # Repeat-visit warnings and joint visits (issue 16 item 3).

    api.register_blueprint(visits_blp, url_prefix="/api/v1" + visits_blp.url_prefix)

    # The ledger of every inspection and the yearly caps (issue 16).

    api.register_blueprint(ledger_blp, url_prefix="/api/v1" + ledger_blp.url_prefix)
    api.register_blueprint(annual_blp, url_prefix="/api/v1" + annual_blp.url_prefix)
    # The inspected enterprise's side: notices, statements, ratings, the portal (issue 17).

    for blp in (notices_blp, statements_blp, ratings_blp, portal_blp):
        api.register_blueprint(blp, url_prefix="/api/v1" + blp.url_prefix)
    # Inspection codes and check-ins (issue 17).

    api.register_blueprint(codes_blp, url_prefix="/api/v1" + codes_blp.url_prefix)
