"""Users, roles, login, access helpers and the audit log."""
