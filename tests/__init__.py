"""snout tests; the folders mirror the packages they test, shared helpers live in tests/fixtures."""
