"""Dependency data and groups: importing connection data (Azure Migrate's dependency export or a
plain CSV), dependency groups built by hand, from tags, folders and name patterns, the dependency
graph, and suggested move groups from it."""
