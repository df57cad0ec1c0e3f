"""The knowledge index: runbooks, site pages, decisions and reply templates, searchable."""
