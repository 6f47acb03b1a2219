"""Full-text and identifier search over the archive."""
