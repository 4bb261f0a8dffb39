"""Staff accounts of the web console: roles, Argon2 password hashes, server-side sessions, the login lockout and
the audit log. Core code: no web framework; the console (api/console) and `tthc-bot staff` (cli/staff.py) call it
with a database session they opened, and it never commits on its own."""
