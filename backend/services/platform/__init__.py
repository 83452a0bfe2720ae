"""The platform: who calls (access), users and sign-in, the audit trail, runtime config, rate limits, input validation."""
