"""The staff API's routes, one router per resource; `api/app.py` mounts them under /api/v1."""

PREFIX = "/api/v1"
