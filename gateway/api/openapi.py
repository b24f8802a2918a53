"""The gateway's OpenAPI document, generated from the blueprints' schemas."""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

from gateway.app import create_app
from gateway.config import Settings
from gateway.core import Gateway

OPENAPI_PATH = Path(__file__).resolve().parents[2] / "schemas" / "openapi" / "gateway.json"


def openapi_document() -> dict:
    """Build the document from an app on a throw-away database (the API does not depend on plugins)."""

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(instance_path=Path(tmp), database_url="sqlite://", secret_key="openapi")
        gateway = Gateway.create(settings, load_entry_points=False)
        app = create_app(gateway=gateway)
        with app.app_context():
            spec = app.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec.to_dict()
        gateway.dispose()
    return spec


def openapi_document_text() -> str:
    return json.dumps(openapi_document(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"
