"""WSGI entry point for production servers: ``gunicorn 'gateway.wsgi:app'`` (settings from SHUANGSUI_*)."""
from gateway.app import create_app

app = create_app()
