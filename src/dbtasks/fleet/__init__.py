"""Many databases under one history: targets, their selection and sharding."""
