"""What counts as the same story: text normalization, content hashes, MinHash signatures."""
