"""End-to-end tests: the real app served over HTTP, driven by a headless Chromium."""
