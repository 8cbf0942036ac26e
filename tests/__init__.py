"""The test suite: a regular package, so that its modules import as ``tests.*`` even when an
installed distribution ships a top-level ``tests`` package of its own."""
