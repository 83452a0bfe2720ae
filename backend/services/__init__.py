"""Services: one module per capability. Each entry point takes an `Actor` and typed inputs."""
