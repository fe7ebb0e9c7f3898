"""Task data: reading records, hash splits and declarative YAML task files."""
