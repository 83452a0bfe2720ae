"""The embedded local runtime: processes and workers that stand in for AWS services on one machine."""
