"""API keys: who is calling, and which jobs are theirs."""
