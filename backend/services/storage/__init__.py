"""Storage helpers over DynamoDB: all-or-nothing units of work, group commit, batch reads, paging cursors, per-process caches."""
