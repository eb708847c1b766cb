"""Persistence: the database (system of record) and the attachment blob store."""
