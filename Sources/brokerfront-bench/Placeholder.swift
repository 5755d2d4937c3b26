// Keeps the target non-empty while the bench tool is written.
