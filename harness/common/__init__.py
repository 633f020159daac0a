"""What every stage uses: errors with their one line, checked input, files written whole,
escaping, the vocabulary (roles). Imports nothing else of the harness."""
