"""The outside world behind small interfaces, each with a local implementation and an AWS one."""
