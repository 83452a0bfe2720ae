"""One construct per concern; `infra.wecare_stack` wires them together and grants access."""
