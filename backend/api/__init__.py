"""REST API: one route table served by two doors (API Gateway → Lambda, and the Reflex backend)."""
