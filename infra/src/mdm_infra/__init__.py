"""Start, check and stop the embedded platform (make run, make stop, tests)."""
