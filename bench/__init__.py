"""Benchmarks of the contact services against a private DynamoDB Local (see `bench/local_dynamodb.py`)."""
