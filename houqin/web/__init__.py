"""The web UI: server-rendered pages for staff (phones), the logistics head and leadership.

``make_app(settings)`` in ``houqin.web.app`` builds the application; nothing is built at import
time. Routes stay thin: they check permissions (``permissions.py``), call the ledger core in one
unit of work per request (``deps.db``) and render a Jinja2 template.
"""
