"""Local development tools: the companion CLI, the local gateway and local services."""
